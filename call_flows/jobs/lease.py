"""Claiming an outbox job for one attempt (call_flows/jobs/attempts.py `run`): the lease and the
attempt marker, written and committed before the task calls out (issue 12 faults 2 and 5, 9.16)."""
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import CursorResult, inspect, text, update

from call_flows.autocommit import autocommitted
from call_flows.models import OutboxJob

if TYPE_CHECKING:  # the unit of work imports the outbox
    from call_flows.unit_of_work import AbstractUnitOfWork

LEASE_S = 90  # a claimed job not settled by then (its worker died) may be claimed again; > JOB_TIMEOUT_S + Twilio's 10 s
UNKNOWN_OUTCOME = "outcome unknown, attempt began "  # last_error of a failure that may have reached the platform


def _unconfirmed_since(job: OutboxJob) -> datetime | None:
    """When the attempt began whose outcome is unknown, if the last attempt is such a one: its worker died (`running`, lease over: it began LEASE_S before the lease's end) or its request
    timed out or lost its connection after it was sent (a fault with `outcome_unknown`, recorded
    in `last_error` by `_record_failure`). None when the last attempt's outcome is known."""
    if job.status == "running":
        return job.run_at - timedelta(seconds=LEASE_S)
    error = job.last_error or ""  # a retry, handed over (enqueued) or not:
    unknown = job.status in ("pending", "enqueued") and error.startswith(UNKNOWN_OUTCOME)
    return datetime.fromisoformat(error[len(UNKNOWN_OUTCOME):].split(" ", 1)[0].rstrip(":")) if unknown else None


class Claimed(NamedTuple):
    """What a claimed attempt needs of its job, read by the claim itself (no second read)."""

    task: str
    args: dict[str, Any]
    unconfirmed: datetime | None


def claim_attempt(uow: "AbstractUnitOfWork", job_id: int, now: datetime) -> Claimed | None:
    """Claim a job for one attempt in a short transaction of its own (committed here), so that no
    row lock is held while the task calls out (a 10 s Twilio stall holds nothing; issue 12 fault 5).
    The job becomes `running` with `run_at` = the lease's end and `attempts` + 1, the attempt marker
    recorded *before* the REST call. Returns the job's task and args (None: not claimed) with
    `unconfirmed` when the job was `running` with its lease over, i.e. an earlier attempt's worker died
    and its request may have reached the platform (tasks then check before repeating a caller-visible
    act, fault 2), given as the time that attempt began (None: the last attempt's outcome is known); the
    same after an attempt that timed out or lost its connection once its request was sent. On PostgreSQL
    one `UPDATE ... FROM (SELECT ... FOR UPDATE) RETURNING` in autocommit (9.16: one round trip, no
    BEGIN or COMMIT of its own, and no re-read on a press's path); elsewhere SELECT, guarded UPDATE, commit.

    The commit stays synchronous (fsync), deliberately: `SET LOCAL synchronous_commit = off` would
    let a PostgreSQL crash (not a worker's) within the WAL writer's delay after the REST call forget
    the claim. The job would then be `enqueued` again with its old attempt count and no marker, the
    sweeper would hand it over, and the task would repeat the redirect without first asking the
    platform (effects._earlier_attempt_settles runs only for an unconfirmed attempt): a warning
    audible twice, against fault 2's "at most once". The act's own state (`platform_status`) is
    written only when the attempt settles, so it cannot stand in for the marker."""
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        return _claim_in_one_statement(uow, job_id, now)
    job = session.get(OutboxJob, job_id)
    if job is None or job.status in ("done", "failed") or (job.status == "running" and job.run_at > now):
        uow.rollback()
        return None
    before, since, got = job.status, _unconfirmed_since(job), Claimed(job.task, job.args, None)
    guard = (OutboxJob.id == job_id) & (OutboxJob.status == before)
    if before == "running":
        guard = guard & (OutboxJob.run_at <= now)
    claimed = cast(CursorResult[Any], session.execute(update(OutboxJob).where(guard).values(
        status="running", attempts=OutboxJob.attempts + 1, run_at=now + timedelta(seconds=LEASE_S))))
    uow.commit()
    return got._replace(unconfirmed=since) if claimed.rowcount == 1 else None


_CLAIM = text("""
UPDATE outbox_jobs AS job SET status = 'running', attempts = job.attempts + 1, run_at = :lease_end
  FROM (SELECT id, status, run_at, last_error FROM outbox_jobs WHERE id = :id FOR UPDATE) AS before
 WHERE job.id = before.id
   AND (before.status IN ('pending', 'enqueued') OR (before.status = 'running' AND before.run_at <= :now))
RETURNING before.status, before.run_at, before.last_error, job.task, job.args
""").columns(*(OutboxJob.__table__.c[name] for name in ("status", "run_at", "last_error", "task", "args")))
# the row lock makes a second claimer wait, then see the first one's `running` and claim nothing


def _claim_in_one_statement(uow: "AbstractUnitOfWork", job_id: int, now: datetime) -> Claimed | None:
    """The claim is its own transaction: run in autocommit it is one round trip, without a BEGIN and a
    COMMIT of its own (9.16), and still committed (fsync) before PostgreSQL answers, i.e. before the
    task calls out (call_flows/autocommit.py; in a transaction already begun it commits with it)."""
    session = uow.session
    with autocommitted(session):
        row = session.execute(_CLAIM, {"id": job_id, "now": now, "lease_end": now + timedelta(seconds=LEASE_S)}).first()
    uow.commit()  # the claim's own transaction when it was not autocommitted
    loaded = session.identity_map.get(inspect(OutboxJob).identity_key_from_primary_key((job_id,)))
    if loaded is not None:  # a copy this session holds is stale now (sessions keep objects across commits)
        session.expire(loaded)
    if row is None:
        return None
    before = OutboxJob(status=row.status, run_at=row.run_at, last_error=row.last_error)  # transient, never added
    return Claimed(row.task, row.args, _unconfirmed_since(before))
