"""The one transaction boundary (cosmicpython's unit of work, chapter 6, with chapter 8's events).

Every door (a staff API view, a page form, a Twilio callback, a CLI command, a periodic job) does
its writes the same way::

    with uow:                                   # a unit of work from the wiring (app: `unit_of_work()`)
        result = control.warn(uow.session, call_sid, user, reason, detail, now)  # records CallWarned
        uow.commit()

`commit()`: the events the services recorded (call_flows/events.py) get their outbox jobs written in
the same transaction (call_flows/follow_ups.py), the transaction commits, the jobs are handed over
(RQ, or run in-process in the embedded default: call_flows/jobs/handover.py), the live events are
published (call_flows/live_events.py), and what follows an event in a later transaction (the write-up
of a termination, 9.16) runs and commits the same way. Leaving the block without `commit()`, or with
an exception, rolls back. So what follows an act never depends on the door it came through.
"""
import abc
from typing import Any, Callable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from call_flows import events as domain_events
from call_flows import follow_ups, live_events
from call_flows.calls import live_card
from call_flows.events import Event
from call_flows.jobs import outbox
from call_flows.jobs.handover import HandOver
from call_flows.models import OutboxJob


class AbstractUnitOfWork(abc.ABC):
    """A transaction and what follows its commit. Use as a context manager; see the module's docstring."""

    session: Session
    committed: bool = False

    def __enter__(self) -> "AbstractUnitOfWork":
        self.committed = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_args: object) -> None:
        if exc_type is not None or not self.committed:
            self.rollback()

    def record(self, *events: Event) -> None:
        """Record events of this transaction that no service recorded (e.g. a view's `callback_changed`)."""
        domain_events.record(self.session, *events)

    def commit(self) -> None:
        """Write the events' outbox jobs, commit, hand the jobs over, publish the live events, then
        run the events' later follow-ups (each commits through this unit of work again)."""
        follow_ups.write_jobs(self.session)
        handed_over = self._prepare_hand_over()
        self._commit()
        self.committed = True
        self._hand_over(handed_over)
        done = follow_ups.written(self.session)
        for event in done:
            live = event.live()
            if live is not None:
                self._publish(live)
        for event in done:
            follow_ups.after_commit(self, event)

    def rollback(self) -> None:
        """Discard the transaction, the events recorded in it and the jobs it recorded."""
        self._rollback()
        _forget(self.session)

    @abc.abstractmethod
    def _prepare_hand_over(self) -> list[Any] | None: ...

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def _hand_over(self, handed_over: list[Any] | None) -> None: ...

    @abc.abstractmethod
    def _publish(self, live: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def _rollback(self) -> None: ...


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """A unit of work on a SQLAlchemy session. `session`: an open session to work in (a web request's
    own, closed by the request), or None to open one from `handover.sessionmaker` on `__enter__` and
    close it on `__exit__` (a job, a CLI command)."""

    def __init__(self, handover: HandOver, session: Session | None = None) -> None:
        self.handover = handover
        self._own = session is None
        if session is not None:
            self.session = session

    def __enter__(self) -> "SqlAlchemyUnitOfWork":
        if self._own:
            self.session = self.handover.sessionmaker()
        super().__enter__()
        if self.handover.queue is not None:  # its commit hands the jobs over: record them `enqueued` (9.16)
            self.session.info[outbox.HAND_OVER_ON_COMMIT] = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *args: object) -> None:
        self.session.info.pop(outbox.HAND_OVER_ON_COMMIT, None)
        super().__exit__(exc_type, *args)
        if self._own:
            self.session.close()

    def _prepare_hand_over(self) -> list[Any] | None:
        return self.handover.prepare(self.session)

    def _commit(self) -> None:
        self.session.commit()

    def _hand_over(self, handed_over: list[Any] | None) -> None:
        self.handover.dispatch(outbox.recorded_ids(self.session), handed_over=handed_over)

    def _publish(self, live: dict[str, Any]) -> None:
        # a call event carries its board card, built once here, not per open board (issue 13 item 4)
        live_events.publish(self.handover.bus, live_card.with_card(self.session, live))

    def _rollback(self) -> None:
        self.session.rollback()


class FakeUnitOfWork(AbstractUnitOfWork):
    """For domain tests, without Flask or a database server: a session on any engine (in-memory
    SQLite), the jobs handed over (`jobs`: task names) and live events (`published`) kept in lists.
    `handover`: a HandOver without a queue to run the jobs in-process (e.g. against the simulated
    platform), or None to only record them."""

    def __init__(self, session: Session, handover: HandOver | None = None) -> None:
        self.session, self.handover = session, handover
        self.jobs: list[str] = []
        self.published: list[dict[str, Any]] = []
        self.commits = 0

    def _prepare_hand_over(self) -> list[Any] | None:
        return None

    def _commit(self) -> None:
        self.session.commit()
        self.commits += 1

    def _hand_over(self, handed_over: list[Any] | None) -> None:
        ids = outbox.recorded_ids(self.session)
        self.jobs.extend(self.session.get_one(OutboxJob, job_id).task for job_id in ids)
        if self.handover is not None:
            self.handover.dispatch(ids)

    def _publish(self, live: dict[str, Any]) -> None:
        self.published.append(live)

    def _rollback(self) -> None:
        self.session.rollback()


def _forget(session: Session) -> None:
    domain_events.take(session)
    follow_ups.forget(session)
    outbox.recorded_ids(session)  # rolled back with the transaction: nothing to hand over
    session.info.pop(outbox.ENQUEUED_AT_INSERT, None)


def _before_commit(session: Session) -> None:
    follow_ups.write_jobs(session)
    outbox.unmark_unless_handed_over(session)  # after write_jobs, which may record more


def _forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        _forget(session)


def session_factory(sessionmaker: Callable[[], Session]) -> Callable[[], Session]:
    """Make every commit of `sessionmaker`'s sessions write the outbox jobs of the events recorded in
    its transaction, also where a session is committed without a unit of work (whose jobs then stay
    `pending` for the sweeper), and every rollback forget them."""
    sa_event.listen(sessionmaker, "before_commit", _before_commit)
    sa_event.listen(sessionmaker, "after_soft_rollback", _forget_on_rollback)
    return sessionmaker


def committed_live(event: Event) -> dict[str, Any]:
    """The live payload of `event`, whose write was committed without a session (ring time,
    app/twilio_hooks/voice.answer_ring: one autocommit statement, or the ring journal), to publish
    without opening a session or a transaction (issue 13: that was a tenth of a ring's CPU). Only for
    an event that carries its card and that nothing follows: one with an outbox job or a later step
    goes through `commit()` (ValueError)."""
    if type(event) in follow_ups.JOBS or type(event) in follow_ups.AFTER_COMMIT:
        raise ValueError(f"{type(event).__name__} has follow-ups: record it in a unit of work")
    live = event.live()
    if live is None:
        raise ValueError(f"{type(event).__name__} has no live payload")
    return live_card.with_known_card(live) if live.get("card") is not None else live
