"""Running one outbox job: claim, call out, settle, and the one retry policy (DOMAIN "nothing is lost").

RQ itself never retries: a failed attempt is recorded on the job. A terminal fault (an exception with
`terminal = True`, e.g. platform.faults.CallerGone, or outbox.UnknownTask) settles the job after that
one attempt; any other fault makes it `pending` again with `run_at` pushed back exponentially
(`backoff`) and never sooner than the platform's `retry_after`; after MAX_ATTEMPTS it is `failed`. A
job that ends `failed` runs its task's `on_give_up` hook (a warning becomes `failed`). Recording jobs
and handing them over is `call_flows.jobs.outbox`.
"""
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from call_flows import logs
from call_flows.clock import utcnow
from call_flows.jobs.lease import UNKNOWN_OUTCOME, claim_attempt
from call_flows.jobs.outbox import UNCONFIRMED, known_task, resolve
from call_flows.models import OutboxJob

if TYPE_CHECKING:  # the unit of work imports the outbox
    from call_flows.unit_of_work import AbstractUnitOfWork

log = logs.get_logger(__name__)
MAX_ATTEMPTS = 8
MAX_DELAY_S = 3600
BACKOFF_BASE_S = 15  # tests shorten it (OUTBOX_BACKOFF_S, app/worker.py), as they shorten LEASE_S


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, ... 1 h."""
    return timedelta(seconds=min(MAX_DELAY_S, BACKOFF_BASE_S * 2 ** attempts))



def run(uow: "AbstractUnitOfWork", job_id: int, ctx: Any, now: datetime | None = None) -> str:
    """Run one job in the open unit of work `uow`. Returns its status afterwards: "done", "pending" (a
    retry is due at the job's `run_at`), "failed" (given up), "running" (another worker holds it), or
    "missing". Claim, call out, settle: three short transactions, none open across the platform's
    answer with a lock (`claim_attempt`), each committed through `uow` (the task's events are published only
    after its commit). Never raises for a failed task: the failure is recorded on the job (the one
    retry policy above)."""
    session = uow.session
    now = now or utcnow()
    got = claim_attempt(uow, job_id, now)  # the task and its args come with the claim (9.16: no re-read)
    if got is None:
        job = session.get(OutboxJob, job_id)
        uow.rollback()
        return job.status if job else "missing"
    session.info[UNCONFIRMED] = got.unconfirmed
    try:
        resolve(got.task)(session, ctx, now, **got.args)
    except Exception as exc:  # recorded on the job; the job is retried or settled, never raised to RQ
        uow.rollback()
        return _record_failure(uow, ctx, job_id, exc, now)
    finally:
        session.info.pop(UNCONFIRMED, None)
    session.execute(update(OutboxJob).where(OutboxJob.id == job_id)  # flushed with the task's writes, no re-read
                    .values(status="done", done_at=now, last_error=None))
    uow.commit()
    return "done"


def _record_failure(uow: "AbstractUnitOfWork", ctx: Any, job_id: int, exc: Exception, now: datetime) -> str:
    session = uow.session
    job = session.get_one(OutboxJob, job_id)  # `claim_attempt` counted the attempt already
    job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    began = session.info.get(UNCONFIRMED) or (now if getattr(exc, "outcome_unknown", False) else None)
    if began is not None:  # sent, never answered (or still unchecked): the next attempt checks first
        job.last_error = f"{UNKNOWN_OUTCOME}{began.isoformat()}: {job.last_error}"[:2000]
    if getattr(exc, "terminal", False) or job.attempts >= MAX_ATTEMPTS:
        job.status, job.done_at = "failed", now
        hook = getattr(known_task(job.task), "on_give_up", None)
        if hook is not None:
            hook(session, ctx, now, exc, **job.args)
        log.warning("outbox_gave_up", job=job.id, task=job.task, attempts=job.attempts,
                    error=job.last_error)
    else:
        retry_after = timedelta(seconds=getattr(exc, "retry_after", None) or 0)
        job.status, job.run_at = "pending", now + max(backoff(job.attempts), retry_after)
        log.warning("outbox_retry", job=job.id, task=job.task,
                    attempts=job.attempts, run_at=job.run_at.isoformat(), error=job.last_error)
    uow.commit()
    return job.status
