"""RQ job functions. Each is a few lines: build the context, call one service."""
from call_flows.jobs import outbox

from app.jobs import dispatch

from .context import worker_app
from .schedules import periodic_jobs


def run_outbox_job(job_id: int) -> str:
    """Run one outbox job by id (idempotent). A failed attempt is recorded by the outbox, which
    decides whether and when to retry; a retry is handed back to RQ's scheduler for its run_at."""
    app = worker_app()
    session = app.extensions["sessionmaker"]()
    try:
        status = outbox.run(session, job_id, app.extensions["job_context"])
        dispatch(app, outbox.recorded_ids(session) + ([job_id] if status == "pending" else []))
        return status
    finally:
        session.close()


def tick(now=None) -> dict:
    """Every minute (`rq cron workers/cron_config.py`): hand over due outbox jobs and run deadline checks."""
    from app.jobs import sweep
    from call_flows.clock import utcnow

    app = worker_app()
    now = now or utcnow()
    results = {"swept": sweep(app, now)}
    for fn in periodic_jobs():
        results[fn.__name__] = fn(app, now)
    return results
