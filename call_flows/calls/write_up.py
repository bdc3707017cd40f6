"""T4-T5 and issue 6 after the final notice is on its way (9.16: a press reaches the caller at once).

Every termination (the staff API, the callback page) ends a call in two commits of its unit of work
(CallTerminated, call_flows/follow_ups.py): the first holds the termination, its `end_call` job and a
*write-up guard* (an outbox job `write_up_termination`, held back from the queue until
`WRITE_UP_GRACE` has passed); right after it the final notice is handed to the workers. The second
commit, in the same request, writes the case note (T4), opens or updates the incident record (I6, I7),
queues the line manager's callback (T5) and its notice, starts the handler's recovery period
(issue 6) and deletes the guard; only then does the door answer (the API: 201 with their ids). If the request
dies between the two commits, the sweeper hands the guard over once it is due and a worker writes
the same record up: nothing is lost, and the guard's row lock and the `case_note_id` check make sure
nothing is written twice."""
from typing import Any
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from call_flows import events
from call_flows.events import CallbackTaskCreated
from call_flows.jobs import outbox
from call_flows.calls import recovery
from call_flows.calls.control import _callback_incident, _incident_for, callback_of
from call_flows.models import Call, CallbackTask, CallWarning, CaseNote, OutboxJob, Termination, User
from call_flows.jobs.outbox import task
from call_flows.vocabulary import ImmediateReason, TaskStatus

WRITE_UP_GRACE = timedelta(minutes=2)  # the guard is handed to a worker only if the request has not written it up


def guard_key(termination_id: int) -> str:
    return f"termination-write-up-{termination_id}"


def record_guard(session: Session, termination_id: int, author_id: int, fields: dict[str, Any], callback_due_hours: int,
                 recovery_minutes: int, now: datetime) -> None:
    """Record the write-up as an outbox job in the termination's own transaction, not handed over now
    (the request writes it up itself after the final notice is handed over)."""
    args = {"termination_id": termination_id, "author_id": author_id, "fields": fields, "at": now.isoformat(),
            "callback_due_hours": callback_due_hours, "recovery_minutes": recovery_minutes}
    job = outbox.record(session, guard_key(termination_id), write_up_termination, args,
                        run_at=now + WRITE_UP_GRACE, now=now)
    outbox.hold(session, job.id)


def pending_fields(session: Session, termination_id: int) -> dict[str, Any] | None:
    """The case-note fields of a termination whose write-up is still outstanding (None if there is none)."""
    args = session.scalar(select(OutboxJob.args).where(OutboxJob.key == guard_key(termination_id)))
    return args["fields"] if args else None


def write_up_guarded(session: Session, termination_id: int) -> None:
    """The request's second commit: write the termination up unless a worker already did (the guard's
    row lock serialises the two), and delete the guard. The caller commits."""
    guard = session.scalar(select(OutboxJob).where(OutboxJob.key == guard_key(termination_id))
                           .with_for_update())
    if guard is None or guard.status in ("done", "failed"):
        return
    write_up(session, **guard.args)
    session.execute(delete(OutboxJob).where(OutboxJob.id == guard.id))


@task
def write_up_termination(session: Session, ctx: Any, now: datetime, **args: Any) -> None:
    """The guard, run by a worker when the request died before writing the termination up."""
    write_up(session, **args)


def write_up(session: Session, termination_id: int, author_id: int, fields: dict[str, Any], at: str | datetime,
             callback_due_hours: int, recovery_minutes: int) -> Termination:
    """T4: the case note (what the service knows, plus what the handler wrote); I6/I7: the incident
    record (serious for a threat of violence); T5: the line manager's callback task and its notice;
    issue 6: the handler's recovery period (none when `recovery_minutes` is 0). `at`: when the call
    was terminated (UTC). Idempotent: a termination already written up is returned as it is."""
    now = datetime.fromisoformat(at) if isinstance(at, str) else at
    termination = session.get_one(Termination, termination_id)  # written in the terminating request
    if termination.case_note_id is not None:
        return termination
    call = session.get_one(Call, termination.call_id)  # terminations.call_id: a foreign key (calls are kept)
    user = session.get_one(User, author_id)  # staff are deactivated, never deleted
    handler = session.get(User, call.handler_id) if call.handler_id else user
    warnings = list(session.scalars(select(CallWarning).where(CallWarning.call_id == call.id)
                                    .order_by(CallWarning.created_at)))
    note_row = CaseNote(
        case_reference=termination.case_reference, call_id=call.id, kind="termination", author_id=user.id,
        known={
            "caller": call.caller or call.caller_kind, "call_sid": call.call_sid,
            "call_started_at": call.started_at.isoformat(), "terminated_at": now.isoformat(),
            "handler": handler.username if handler else None, "terminated_by": user.username,
            "warnings": [{"reason": w.reason, "detail": w.detail, "at": w.created_at.isoformat()} for w in warnings],
            "termination_reason": termination.reason, "immediate_reason": termination.immediate_reason,
            "immediate_detail": termination.immediate_detail, "needs_note": call.needs_note,
        },
        fields=fields, created_at=now)
    session.add(note_row)
    serious = termination.immediate_reason == ImmediateReason.THREAT_OF_VIOLENCE  # I7: escalated to a senior officer
    callback = callback_of(session, call)
    if callback is not None:  # M2: the original incident records it; no second incident, no further callback
        note_row.known = {**note_row.known, "callback_task_id": callback.id}
        incident, task = _callback_incident(session, callback, call, termination, now, serious), callback
    else:
        incident = _incident_for(session, call, now, serious=serious)
        incident.case_reference = termination.case_reference
        task = CallbackTask(  # T5: the handler's line manager calls the customer back
            case_reference=termination.case_reference, caller=call.caller, call_id=call.id, incident_id=incident.id,
            team_id=call.team_id or (handler.team_id if handler else None),
            manager_id=handler.manager_id if handler else None, handler_id=handler.id if handler else None,
            status=TaskStatus.OPEN, need_arose_at=now, due_at=now + timedelta(hours=callback_due_hours), attempts=0)
        session.add(task)
    session.flush()
    termination.case_note_id, termination.incident_id, termination.callback_task_id = note_row.id, incident.id, task.id
    if callback is None:
        events.record(session, CallbackTaskCreated(task.id, at=now))  # T5: the manager is told
    recovery.offer(session, termination, now, recovery_minutes)
    return termination
