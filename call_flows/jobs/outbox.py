"""Reliable side effects (DOMAIN principle "nothing is lost").

`record()` adds an OutboxJob in the caller's transaction; after commit the app's dispatcher hands
pending jobs to RQ (or runs them in-process in the embedded default). `run()` executes one job by
id and is idempotent: a job already done is not done again, and each task checks its own business
state too. `due_for_redispatch()` finds jobs whose hand-over was lost (Redis down) for the sweeper.

The one retry policy (RQ itself never retries): a failed attempt is recorded on the job. A terminal
fault (an exception with `terminal = True`, e.g. platform.faults.CallerGone, or UnknownTask) settles
the job after that one attempt; any other fault makes it `pending` again with `run_at` pushed back
exponentially (`backoff`) and never sooner than the platform's `retry_after`; after MAX_ATTEMPTS it
is `failed`. A job that ends `failed` runs its task's `on_give_up` hook (a warning becomes `failed`).

Tasks are functions marked `@task` and named by dotted path (`call_flows.jobs.effects.play_warning`),
imported when a job needs one: no registry to forget a module in.
"""
import functools
import importlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Callable, NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from call_flows.clock import utcnow
from call_flows.models import OutboxJob
from call_flows import logs

log = logs.get_logger(__name__)
MAX_ATTEMPTS = 8
MAX_DELAY_S = 3600
TASK_ROOT = "call_flows."  # only the domain's own functions may be named by a job


class UnknownTask(LookupError):
    """A job names no outbox task (a mistyped or removed path): the job fails at once, clearly."""

    terminal = True


def task(fn: Callable | None = None, *, urgent: bool = False, on_give_up: Callable | None = None):
    """Mark `fn(session, ctx, now, **args)` as an outbox task; it is named by its dotted path
    (`path_of`), as RQ names its jobs, and registers nothing (the job's row names it).

    `ctx` carries the collaborators (ctx.platform, ctx.mailer, ctx.publish) so tasks stay free of Flask.
    `urgent`: a caller or handler on the line waits for it (a warning, the final notice), so the
    dispatcher hands it over before the e-mails and notifications recorded with it (9.16).
    `on_give_up(session, ctx, now, error, **args)` runs, in the transaction that marks the job
    `failed`, when the job will not be tried again. Use as `@task` or `@task(urgent=True, ...)`."""

    def annotate(fn: Callable) -> Callable:
        fn.outbox_task, fn.urgent, fn.on_give_up = True, urgent, on_give_up
        return fn

    return annotate(fn) if fn is not None else annotate


def path_of(fn: Callable) -> str:
    """The dotted path a job names its task by, e.g. `call_flows.jobs.effects.play_warning`."""
    return f"{fn.__module__}.{fn.__qualname__}"


@functools.cache
def resolve(path: str) -> Callable:
    """The task function a job's `task` path names (imported on first use). Raises UnknownTask for
    a path outside `call_flows.`, one that does not import, or a function not marked `@task`."""
    module, _, name = path.rpartition(".")
    if not path.startswith(TASK_ROOT) or not module or len(path) > OutboxJob.task.type.length:
        raise UnknownTask(f"outbox task {path!r} is not a path under {TASK_ROOT} (of at most 64 characters)")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise UnknownTask(f"outbox task {path!r} cannot be imported: {exc}") from exc
    if not getattr(fn, "outbox_task", False):
        raise UnknownTask(f"{path!r} is not an outbox task (no @outbox.task)")
    return fn


def is_urgent(path: str) -> bool:
    """Someone on the line waits for this job's task (handed over first); False for an unknown path."""
    return bool(getattr(_known(path), "urgent", False))


def _known(path: str) -> Callable | None:
    try:
        return resolve(path)
    except UnknownTask:
        return None


BACKOFF_BASE_S = 15  # tests shorten it (OUTBOX_BACKOFF_S, app/worker.py), as they shorten LEASE_S


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, ... 1 h."""
    return timedelta(seconds=min(MAX_DELAY_S, BACKOFF_BASE_S * 2 ** attempts))


def record(session: Session, key: str, task_fn: Callable | str, args: dict[str, Any], run_at: datetime | None = None,
           now: datetime | None = None) -> OutboxJob:
    """Add the job unless one with the same business key exists (then return that one). `task_fn`:
    an `@task` function or its dotted path; the row stores the path. Raises UnknownTask."""
    task_name = task_fn if isinstance(task_fn, str) else path_of(task_fn)
    resolve(task_name)
    if session.get_bind().dialect.name == "postgresql":
        return _record_in_one_statement(session, key, task_name, args, run_at, now or utcnow())
    existing = session.scalar(select(OutboxJob).where(OutboxJob.key == key))
    if existing:
        _note_for_dispatch(session, existing)
        return existing
    now = now or utcnow()
    job = OutboxJob(key=key, task=task_name, args=args, run_at=run_at or now, created_at=now,
                    status="pending", attempts=0)
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        job = session.scalar(select(OutboxJob).where(OutboxJob.key == key))
    _note_for_dispatch(session, job)
    return job


def _record_in_one_statement(session: Session, key: str, task_name: str, args: dict[str, Any], run_at, now) -> OutboxJob:
    """PostgreSQL: `INSERT ... ON CONFLICT (key) DO NOTHING RETURNING`, one round trip instead of
    SELECT, SAVEPOINT, INSERT and RELEASE on a press's path (9.16); the same result as `record`."""
    insert = (pg_insert(OutboxJob).values(key=key, task=task_name, args=args, run_at=run_at or now, created_at=now,
                                          status="pending", attempts=0)
              .on_conflict_do_nothing(index_elements=["key"]).returning(OutboxJob))
    job = session.scalars(insert, execution_options={"populate_existing": True}).first()
    if job is None:  # the business key exists already
        job = session.scalar(select(OutboxJob).where(OutboxJob.key == key))
    _note_for_dispatch(session, job)
    return job


def _note_for_dispatch(session: Session, job: OutboxJob) -> None:
    """Remember the job on the session so the app hands it over right after commit."""
    if job.status == "pending":
        session.info.setdefault("outbox_ids", []).append(job.id)
        # what the hand-over needs, kept now: the job object itself may be gone from the session's
        # (weak) identity map by commit time, and reading it back is a round trip on a press's path
        session.info.setdefault("outbox_refs", {})[job.id] = _ref(job)


def note_recorded(session: Session, jobs: Iterable[Any]) -> None:
    """Jobs recorded in bulk (rows with id, task path, run_at, attempts, status; call_flows.jobs.bulk):
    handed over after commit like `record`'s (they are in `recorded_ids` and the unit of work's hand-over)."""
    for job in jobs:
        _note_for_dispatch(session, job)


def hold(session: Session, job_id: int) -> None:
    """Do not hand this recorded job over after commit: it waits for its `run_at` and the sweeper
    (e.g. a guard the request itself settles, call_flows.calls.write_up)."""
    ids = session.info.get("outbox_ids", [])
    session.info["outbox_ids"] = [i for i in ids if i != job_id]


def recorded_ids(session: Session) -> list[int]:
    """The pending jobs this session recorded (and forgets them)."""
    session.info.pop("outbox_refs", None)
    return sorted(set(session.info.pop("outbox_ids", [])))


class JobRef(NamedTuple):
    id: int
    task: str
    run_at: datetime
    attempts: int = 0


def mark_handed_over_on_commit(session: Session) -> list[JobRef]:
    """Mark the jobs this session recorded as handed over, in the session's own transaction, for a
    dispatcher that hands them to the queue right after the commit; returns what it needs of them
    (read from the session, not the database). Then a worker never waits on a second commit (a row
    lock and an fsync) before it can start the job, and the dispatcher reads nothing back (9.16).
    If the hand-over fails the dispatcher sets them back to pending; if the process dies in between,
    the sweeper finds them once the hand-over is stale (`due_for_redispatch`)."""
    ids = sorted(set(session.info.get("outbox_ids", [])))
    if not ids:
        return []
    known = session.info.pop("outbox_refs", {})
    refs = [known.get(i) or _ref(session.get(OutboxJob, i)) for i in ids]
    session.execute(update(OutboxJob).where(OutboxJob.id.in_(ids), OutboxJob.status == "pending")
                    .values(status="enqueued"))
    return refs


def _ref(job: OutboxJob) -> JobRef:
    return JobRef(job.id, job.task, job.run_at, job.attempts)


def mark_pending(session: Session, job_ids: list[int]) -> None:
    """Hand-over failed (Redis down): the jobs wait for the sweeper."""
    if job_ids:
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(job_ids), OutboxJob.status == "enqueued")
                        .values(status="pending"))
        session.commit()


LEASE_S = 90  # a claimed job not settled by then (its worker died) may be claimed again; > JOB_TIMEOUT_S + Twilio's 10 s
UNCONFIRMED = "outbox_unconfirmed"  # session.info key: when the earlier attempt whose outcome is unknown began
UNKNOWN_OUTCOME = "outcome unknown, attempt began "  # last_error of a failure that may have reached the platform


def run(session: Session, job_id: int, ctx, now: datetime | None = None) -> str:
    """Run one job and commit. Returns its status afterwards: "done", "pending" (a retry is due at
    the job's `run_at`), "failed" (given up), "running" (another worker holds it), or "missing".
    Claim, call out, settle: three short transactions, none open across the platform's answer with
    a lock (call_flows.jobs.lease.claim). Never raises for a failed task: the failure is recorded on the job (the one
    retry policy above)."""
    now = now or utcnow()
    from call_flows.jobs.lease import claim_attempt  # it reads this module's LEASE_S

    got = claim_attempt(session, job_id, now)
    if got is None:
        job = session.get(OutboxJob, job_id)
        session.rollback()
        return job.status if job else "missing"
    session.info[UNCONFIRMED] = got.unconfirmed
    try:
        resolve(got.task)(session, ctx, now, **got.args)
    except Exception as exc:  # recorded on the job; the job is retried or settled, never raised to RQ
        session.rollback()
        return _record_failure(session, ctx, job_id, exc, now)
    finally:
        session.info.pop(UNCONFIRMED, None)
    session.execute(update(OutboxJob).where(OutboxJob.id == job_id)  # flushed with the task's writes, no re-read
                    .values(status="done", done_at=now, last_error=None))
    session.commit()
    return "done"


def _record_failure(session: Session, ctx, job_id: int, exc: Exception, now: datetime) -> str:
    job = session.get(OutboxJob, job_id)  # `claim` counted the attempt already
    job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    began = session.info.get(UNCONFIRMED) or (now if getattr(exc, "outcome_unknown", False) else None)
    if began is not None:  # sent, never answered (or still unchecked): the next attempt checks first
        job.last_error = f"{UNKNOWN_OUTCOME}{began.isoformat()}: {job.last_error}"[:2000]
    if getattr(exc, "terminal", False) or job.attempts >= MAX_ATTEMPTS:
        job.status, job.done_at = "failed", now
        hook = getattr(_known(job.task), "on_give_up", None)
        if hook is not None:
            hook(session, ctx, now, exc, **job.args)
        log.warning("outbox_gave_up", job=job.id, task=job.task, attempts=job.attempts,
                    error=job.last_error)
    else:
        retry_after = timedelta(seconds=getattr(exc, "retry_after", None) or 0)
        job.status, job.run_at = "pending", now + max(backoff(job.attempts), retry_after)
        log.warning("outbox_retry", job=job.id, task=job.task,
                    attempts=job.attempts, run_at=job.run_at.isoformat(), error=job.last_error)
    session.commit()
    return job.status


def mark_enqueued(session: Session, job_ids: list[int]) -> None:
    if job_ids:
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(job_ids), OutboxJob.status == "pending")
                        .values(status="enqueued"))
        session.commit()


def due_for_redispatch(session: Session, now: datetime, stale_after: timedelta = timedelta(minutes=5)) -> list[int]:
    """Jobs due but never handed over, or handed over so long ago that the hand-over was lost."""
    return list(session.scalars(
        select(OutboxJob.id).where(or_(
            (OutboxJob.status == "pending") & (OutboxJob.run_at <= now),
            (OutboxJob.status == "enqueued") & (OutboxJob.run_at <= now - stale_after),
            (OutboxJob.status == "running") & (OutboxJob.run_at <= now),  # its worker died: the lease ran out
        )).order_by(OutboxJob.id).limit(500)
    ))
