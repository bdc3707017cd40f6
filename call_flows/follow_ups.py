"""What follows each domain event (call_flows/events.py), whichever door the act came through.

`write_jobs(session)` runs before a commit (call_flows/unit_of_work.py): it writes each recorded
event's outbox jobs in the event's own transaction. `after_commit(uow, event)` runs once the
event's transaction is committed, its jobs handed over and its live event published: work that must
wait for that (9.16: the final notice reaches the caller before the termination is written up).
"""
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy.orm import Session

from call_flows import events as domain_events
from call_flows import settings as org_settings
from call_flows.calls import write_up
from call_flows.events import CallAccepted, CallbackTaskCreated, CallTerminated, CallWarned, Event
from call_flows.clock import utcnow
from call_flows.jobs import outbox

if TYPE_CHECKING:  # the unit of work imports this module
    from call_flows.unit_of_work import AbstractUnitOfWork

EFFECTS = "call_flows.jobs.effects."  # the tasks that reach the caller or the manager, named by path
WRITTEN_KEY = "domain_events_done"  # session.info: events whose jobs are written, to publish after commit


def _connect_handler(session: Session, e: CallAccepted) -> None:
    if e.dial_handler:  # the handler's own leg is rung into the call's conference
        outbox.record(session, f"connect-{e.call_id}-{e.handler_id}", EFFECTS + "connect_handler",
                      {"call_id": e.call_id, "user_id": e.handler_id}, now=e.at)


def _play_warning(session: Session, e: CallWarned) -> None:
    """T1: the caller hears the warning (urgent: handed over first, 9.16)."""
    outbox.record(session, f"warning-{e.warning_id}", EFFECTS + "play_warning", {"warning_id": e.warning_id}, now=e.at)


def _final_notice_and_guard(session: Session, e: CallTerminated) -> None:
    """T3: the final notice, and the write-up guard (call_flows/calls/write_up.py) with the
    organisation's callback deadline (T5) and recovery time (issue 6)."""
    outbox.record(session, f"termination-{e.termination_id}", EFFECTS + "end_call", {"termination_id": e.termination_id},
                  now=e.at)
    settings = org_settings.load(session)
    write_up.record_guard(session, e.termination_id, e.author_id, e.fields, settings.callback_due_hours,
                          settings.recovery_minutes, e.at or utcnow())


def _notify_manager(session: Session, e: CallbackTaskCreated) -> None:
    """T5: the line manager is told of their callback task."""
    outbox.record(session, f"callback-{e.task_id}", EFFECTS + "notify_manager", {"task_id": e.task_id}, now=e.at)


JOBS: dict[type, Callable[[Session, Any], None]] = {CallAccepted: _connect_handler, CallWarned: _play_warning,
                              CallTerminated: _final_notice_and_guard, CallbackTaskCreated: _notify_manager}


def write_jobs(session: Session) -> None:
    """Write the outbox jobs of the events recorded on `session` (and of any events those record)."""
    while recorded := domain_events.take(session):
        for event in recorded:
            write = JOBS.get(type(event))
            if write is not None:
                write(session, event)
        session.info.setdefault(WRITTEN_KEY, []).extend(recorded)


def written(session: Session) -> list[Event]:
    """The events whose jobs were written (and forgets them): the committed transaction's events."""
    done: list[Event] = session.info.pop(WRITTEN_KEY, [])
    return done


def forget(session: Session) -> None:
    session.info.pop(WRITTEN_KEY, None)


def _write_up(uow: "AbstractUnitOfWork", e: CallTerminated) -> None:
    """T4, I6, T5, issue 6: the request writes the termination up in a second transaction, once the
    final notice is handed over; the guard makes a worker do it if the request dies first."""
    write_up.write_up_guarded(uow.session, e.termination_id)
    uow.commit()


AFTER_COMMIT: dict[type, Callable[["AbstractUnitOfWork", Any], None]] = {CallTerminated: _write_up}


def after_commit(uow: "AbstractUnitOfWork", event: Event) -> None:
    follow = AFTER_COMMIT.get(type(event))
    if follow is not None:
        follow(uow, event)
