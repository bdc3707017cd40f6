"""RQ job functions. Each is a few lines: take the process's wiring, call one service."""
from call_flows.clock import utcnow

from .context import wiring
from .schedules import periodic_jobs


def run_outbox_job(job_id: int) -> str:
    """Run one outbox job by id (idempotent). A failed attempt is recorded by the outbox, which
    decides whether and when to retry; a retry waits `pending` until `sweep` hands it over at its run_at."""
    handover = wiring()
    session = handover.sessionmaker()
    try:
        return handover.run(session, job_id)
    finally:
        session.close()


def sweep(now=None) -> int:
    """Every few seconds (`rq cron`, CALLGUARD_SWEEP_S): hand over the outbox jobs now due (retries at
    their run_at, jobs whose hand-over or worker was lost). Returns how many were handed over."""
    return wiring().sweep(now or utcnow())


def tick(now=None) -> dict:
    """Every minute (`rq cron workers/cron_config.py`): hand over due outbox jobs and run deadline checks."""
    handover = wiring()
    now = now or utcnow()
    results = {"swept": handover.sweep(now)}
    for fn in periodic_jobs():
        results[fn.__name__] = fn(handover, now)
    return results
