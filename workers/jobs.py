"""RQ job functions. Each is a few lines: build the context, call one service."""
import call_flows.effects  # noqa: F401  (registers the outbox tasks)
from call_flows import outbox

from .context import worker_app

PERIODIC = []  # functions fn(app, now) run by `tick`, registered by each area (deadlines, expiry, ...)


def periodic(fn):
    PERIODIC.append(fn)
    return fn


def run_outbox_job(job_id: int) -> str:
    """Run one outbox job by id (idempotent; raises on failure so RQ's Retry runs it again)."""
    app = worker_app()
    session = app.extensions["sessionmaker"]()
    try:
        return outbox.run(session, job_id, app.extensions["platform"])
    finally:
        session.close()


def tick(now=None) -> dict:
    """Every minute (`rq cron workers/cron_config.py`): hand over due outbox jobs and run deadline checks."""
    from app.jobs import sweep
    from call_flows.clock import utcnow

    app = worker_app()
    now = now or utcnow()
    results = {"swept": sweep(app, now)}
    for fn in PERIODIC:
        results[fn.__name__] = fn(app, now)
    return results
