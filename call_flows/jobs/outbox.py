"""Reliable side effects (DOMAIN principle "nothing is lost"): recording jobs and handing them over.

`record()` adds an OutboxJob in the caller's transaction; after commit the app's dispatcher hands
pending jobs to RQ (or runs them in-process in the embedded default). Running one job, idempotently,
and the one retry policy are `call_flows.jobs.attempts` (`run`). `due_for_redispatch()` finds jobs
whose hand-over was lost (Redis down) for the sweeper.

Tasks are functions marked `@task` and named by dotted path (`call_flows.jobs.effects.play_warning`),
imported when a job needs one: no registry to forget a module in.
"""
import functools
import importlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Callable, NamedTuple, TypeVar, overload

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from call_flows.clock import utcnow
from call_flows.models import OutboxJob

TASK_ROOT = "call_flows."  # only the domain's own functions may be named by a job
UNCONFIRMED = "outbox_unconfirmed"  # session.info key: when the earlier attempt whose outcome is unknown began
HAND_OVER_ON_COMMIT = "outbox_hand_over_on_commit"  # session.info key: a unit of work with a queue is open (9.16)
ENQUEUED_AT_INSERT = "outbox_enqueued_at_insert"  # session.info key: ids recorded `enqueued` (record, 9.16)


class UnknownTask(LookupError):
    """A job names no outbox task (a mistyped or removed path): the job fails at once, clearly."""

    terminal = True


Task = TypeVar("Task", bound=Callable[..., Any])


@overload
def task(fn: Task) -> Task: ...
@overload
def task(fn: None = None, *, urgent: bool = False,
         on_give_up: Callable[..., Any] | None = None) -> Callable[[Task], Task]: ...
def task(fn: Task | None = None, *, urgent: bool = False,
         on_give_up: Callable[..., Any] | None = None) -> Task | Callable[[Task], Task]:
    """Mark `fn(session, ctx, now, **args)` as an outbox task; it is named by its dotted path
    (`path_of`), as RQ names its jobs, and registers nothing (the job's row names it).

    `ctx` carries the collaborators (ctx.platform, ctx.mailer) so tasks stay free of Flask; what the
    board is to see a task records as a domain event (call_flows/events.py).
    `urgent`: a caller or handler on the line waits for it (a warning, the final notice), so the
    dispatcher hands it over before the e-mails and notifications recorded with it (9.16).
    `on_give_up(session, ctx, now, error, **args)` runs, in the transaction that marks the job
    `failed`, when the job will not be tried again. Use as `@task` or `@task(urgent=True, ...)`."""

    def annotate(fn: Task) -> Task:
        vars(fn).update(outbox_task=True, urgent=urgent, on_give_up=on_give_up)
        return fn

    return annotate(fn) if fn is not None else annotate


def path_of(fn: Callable[..., Any]) -> str:
    """The dotted path a job names its task by, e.g. `call_flows.jobs.effects.play_warning`."""
    return f"{fn.__module__}.{fn.__qualname__}"


@functools.cache
def resolve(path: str) -> Callable[..., Any]:
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
    task_fn: Callable[..., Any] = fn
    return task_fn


def is_urgent(path: str) -> bool:
    """Someone on the line waits for this job's task (handed over first); False for an unknown path."""
    return bool(getattr(known_task(path), "urgent", False))


def known_task(path: str) -> Callable[..., Any] | None:
    """The task a path names, or None for an unknown one."""
    try:
        return resolve(path)
    except UnknownTask:
        return None


def record(session: Session, key: str, task_fn: Callable[..., Any] | str, args: dict[str, Any], run_at: datetime | None = None,
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
                    status=_status_at_insert(session, run_at, now), attempts=0)
    inserted = True
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:  # a concurrent request recorded the same business key first: its job
        winner = session.scalar(select(OutboxJob).where(OutboxJob.key == key))
        assert winner is not None  # the unique key that refused ours is the winner's
        job, inserted = winner, False
    _note_for_dispatch(session, job, inserted)
    return job


def _record_in_one_statement(session: Session, key: str, task_name: str, args: dict[str, Any],
                             run_at: datetime | None, now: datetime) -> OutboxJob:
    """PostgreSQL: `INSERT ... ON CONFLICT (key) DO NOTHING RETURNING`, one round trip instead of
    SELECT, SAVEPOINT, INSERT and RELEASE on a press's path (9.16); the same result as `record`."""
    insert = (pg_insert(OutboxJob).values(key=key, task=task_name, args=args, run_at=run_at or now, created_at=now,
                                          status=_status_at_insert(session, run_at, now), attempts=0)
              .on_conflict_do_nothing(index_elements=["key"]).returning(OutboxJob))
    job = session.scalars(insert, execution_options={"populate_existing": True}).first()
    inserted = job is not None
    if job is None:  # the business key exists already
        job = session.scalar(select(OutboxJob).where(OutboxJob.key == key))
    assert job is not None  # ON CONFLICT (key): the row that conflicted holds this key
    _note_for_dispatch(session, job, inserted)
    return job


def _status_at_insert(session: Session, run_at: datetime | None, now: datetime) -> str:
    """`enqueued` for a job due now recorded in a unit of work that hands it to the queue right after
    its commit (the hand-over's mark, `mark_handed_over_on_commit`, without a statement of its own:
    9.16); else `pending`. A commit that does not hand over sets it back (`unmark_unless_handed_over`)."""
    due = run_at is None or run_at <= now
    return "enqueued" if due and session.info.get(HAND_OVER_ON_COMMIT) else "pending"


def _note_for_dispatch(session: Session, job: OutboxJob, inserted: bool = False) -> None:
    """Remember the job on the session so the app hands it over right after commit (`inserted`: this
    call recorded it, so an `enqueued` status is `_status_at_insert`'s)."""
    if inserted and job.status == "enqueued":
        session.info.setdefault(ENQUEUED_AT_INSERT, set()).add(job.id)
    elif job.status != "pending":
        return
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
    marked = session.info.get(ENQUEUED_AT_INSERT, set())
    if job_id in marked:  # recorded `enqueued` (due now): it waits `pending` instead
        marked.discard(job_id)
        session.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(status="pending"))


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
    marked = session.info.pop(ENQUEUED_AT_INSERT, set())  # recorded `enqueued` already: no statement (9.16)
    if not ids:
        return []
    known = session.info.pop("outbox_refs", {})
    refs = [known.get(i) or _ref(session.get_one(OutboxJob, i)) for i in ids]
    if unmarked := [i for i in ids if i not in marked]:
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(unmarked), OutboxJob.status == "pending")
                        .values(status="enqueued"))
    return refs


def unmark_unless_handed_over(session: Session) -> None:
    """Before a commit that will not hand the session's jobs over (one outside the unit of work's own,
    which takes ENQUEUED_AT_INSERT first): the jobs `record` wrote `enqueued` go back to `pending`,
    for the sweeper, so no job waits as if a queue had it."""
    if ids := session.info.pop(ENQUEUED_AT_INSERT, None):
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(sorted(ids)), OutboxJob.status == "enqueued")
                        .values(status="pending"))


def _ref(job: OutboxJob) -> JobRef:
    return JobRef(job.id, job.task, job.run_at, job.attempts)


def mark_pending(session: Session, job_ids: list[int]) -> None:
    """Hand-over failed (Redis down): the jobs wait for the sweeper."""
    _move(session, job_ids, "enqueued", "pending")


def _move(session: Session, job_ids: list[int], before: str, after: str) -> None:
    """A deliberate transaction of its own, not a unit of work's: the hand-over's bookkeeping
    (HandOver.dispatch), after the unit of work that recorded the jobs has committed, in the hand-over's
    own session. It records no events; a unit of work here would hand over again."""
    if job_ids:
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(job_ids), OutboxJob.status == before)
                        .values(status=after))
        session.commit()


def mark_enqueued(session: Session, job_ids: list[int]) -> None:
    """Handed over (the sweeper's re-dispatch): the jobs wait in the queue."""
    _move(session, job_ids, "pending", "enqueued")


def due_for_redispatch(session: Session, now: datetime, stale_after: timedelta = timedelta(minutes=5)) -> list[int]:
    """Jobs due but never handed over, or handed over so long ago that the hand-over was lost."""
    return list(session.scalars(
        select(OutboxJob.id).where(or_(
            (OutboxJob.status == "pending") & (OutboxJob.run_at <= now),
            (OutboxJob.status == "enqueued") & (OutboxJob.run_at <= now - stale_after),
            (OutboxJob.status == "running") & (OutboxJob.run_at <= now),  # its worker died: the lease ran out
        )).order_by(OutboxJob.id).limit(500)
    ))
