"""The handler's controls on a live call: accept, warn (T1), need noted (T2), terminate (T3-T5)."""
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from call_flows import events
from call_flows import logs
from call_flows.events import CallAccepted, CallTerminated, CallWarned
from call_flows.calls.pending import find_call, store_pending
from call_flows.errors import CallEnded, Conflict, Forbidden, InvalidInput, NotFound, WarningRequired
from call_flows.models import Call, CallbackTask, CallWarning, CaseNote, Incident, Termination, User
from call_flows.calls.status import why_ended
from call_flows.staff.visibility import may_see_call
from call_flows.vocabulary import (CallStatus, ImmediateReason, IncidentStatus, PlayStatus, Role)

log = logs.get_logger(__name__)


def get_call(session: Session, call_sid: str) -> Call:
    call = find_call(session, call_sid)  # a row still written behind is stored first (issue 13)
    if call is None:
        raise NotFound(f"no call {call_sid}")
    return call


def get_call_and_termination(session: Session, call_sid: str) -> tuple[Call, Termination | None]:
    """The call and its termination (T3; None if it has none), in one round trip (9.16)."""
    query = select(Call, Termination).outerjoin(Termination, Termination.call_id == Call.id).where(Call.call_sid == call_sid)
    row = session.execute(query).first()
    if row is None and store_pending(session, call_sid):  # written behind (issue 13): stored now
        row = session.execute(query).first()
    if row is None:
        raise NotFound(f"no call {call_sid}")
    return row[0], row[1]


def heard_a_warning(session: Session, call_id: int) -> bool:
    """T3: whether the caller has heard a warning on this call, which decides the final notice
    (twiml.final_notice): "you were warned" only when a warning was really played."""
    return bool(session.scalar(select(heard_a_warning_on(call_id))))


def heard_a_warning_on(call_id: Any) -> Any:
    """`heard_a_warning` as an SQL boolean, for a query that reads the call's other rows with it."""
    return exists().where(CallWarning.call_id == call_id, CallWarning.platform_status == PlayStatus.PLAYED)


def _check_may_act(session: Session, call: Call, user: User) -> None:
    """The call's own handler, or a supervisor who watches the call's team (CONTRACT staff API).
    R9: someone who may not see the call is told it does not exist (404, as for an unknown CallSid);
    a call nobody has taken yet has no handler to protect, so no one warns or ends it (409)."""
    if call.handler_id is not None and call.handler_id == user.id:
        return
    if not may_see_call(session, user, call):
        raise NotFound(f"no call {call.call_sid}")
    if call.handler_id is None:
        raise Conflict("nobody has taken this call yet", code="not_answered")
    if user.role != Role.SUPERVISOR:
        raise Forbidden("only the call's handler or a supervisor of its team may do this", code="not_your_call")


def check_live(session: Session, call: Call, terminated: bool | None = None) -> None:
    """Every act on a call (accept, warn, need, terminate) is refused once it has ended or was
    terminated: CallEnded (409 `call_ended`, CONTRACT), so nothing is recorded as said or heard.
    `terminated`: whether the call has a termination row, when the caller has read it (status.why_ended)."""
    reason = why_ended(session, call, terminated)
    if reason:
        raise CallEnded(f"{reason}: nothing more can be done on this call")


def accept(session: Session, call_sid: str, user: User, now: datetime) -> Call:
    """The handler takes a ringing call; the platform rings them into the call's conference.
    Raises CallEnded on a call that is over, Conflict `already_accepted` if another handler has it."""
    call = get_call(session, call_sid)
    if call.handler_id and call.handler_id != user.id and not may_see_call(session, user, call):
        # R9: another team's call says nothing of what became of it (not even that it ended, or why)
        raise Conflict("another handler has taken this call", code="already_accepted")
    check_live(session, call)
    if call.handler_id and call.handler_id != user.id:
        raise Conflict("another handler has taken this call", code="already_accepted")
    if call.handler_id == user.id:
        return call
    call.handler_id = user.id
    call.team_id = user.team_id
    call.status = CallStatus.IN_PROGRESS
    call.answered_at = call.answered_at or now
    session.flush()
    events.record(session, CallAccepted(call.call_sid, call.handler_id, call.team_id, call_id=call.id,
                                        dial_handler=bool(user.phone), at=now))
    log.info("call_accepted", call_sid=call.call_sid, outcome="accepted", user=user.username)
    return call


def note_need(session: Session, call_sid: str, user: User, text: str) -> Call:
    """T2: the handler records that a disability or need may be involved; managers see it.
    Raises CallEnded once the call is over (the need is then part of the case note, T4)."""
    call = get_call(session, call_sid)
    _check_may_act(session, call, user)
    check_live(session, call)
    call.needs_note = text  # clean text of 1 to 1000 characters (NeedIn)
    return call


def _incident_for(session: Session, call: Call, now: datetime, serious: bool = False) -> Incident:
    """I6: one incident record per warned or terminated call, opened the first time. A manager's
    callback call (M2) has none of its own: it is recorded on the incident of the call it is about."""
    callback = callback_of(session, call)
    if callback is not None and callback.incident_id:
        incident = session.get(Incident, callback.incident_id)
        assert incident is not None  # callback_tasks.incident_id is a foreign key to incidents
        incident.serious = incident.serious or serious
        return incident
    if callback is not None and callback.call_id:
        about = session.get(Call, callback.call_id)
        assert about is not None  # callback_tasks.call_id is a foreign key to calls
        call = about
    values: dict[str, Any] = dict(call_id=call.id, team_id=call.team_id, staff_id=call.handler_id, status=IncidentStatus.OPEN,
                  serious=serious, opened_at=now, details={})
    if session.get_bind().dialect.name == "postgresql":  # the first warning: one round trip (9.16)
        insert = pg_insert(Incident).values(**values).on_conflict_do_nothing(index_elements=["call_id"])
        opened = session.scalars(insert.returning(Incident), execution_options={"populate_existing": True}).first()
        if opened is not None:
            return opened
    incident = session.scalar(select(Incident).where(Incident.call_id == call.id))
    if incident is None:
        incident = Incident(**values)
        session.add(incident)
        session.flush()
    elif serious:
        incident.serious = True
    return incident


def warn(session: Session, call_sid: str, user: User, reason: str, detail: str | None, now: datetime) -> CallWarning:
    """T1: store the warning, then the caller hears it (an outbox job) and the call goes on. `reason`
    and `detail` arrive valid (app/api/schemas.py WarningIn, for the API and the pages alike).
    Raises CallEnded on a call that has ended or was terminated: no warning is stored or played."""
    call, termination = get_call_and_termination(session, call_sid)
    _check_may_act(session, call, user)
    check_live(session, call, terminated=termination is not None)
    warning = CallWarning(call_id=call.id, caller=call.caller, reason=reason, detail=detail,
                          given_by_id=user.id, created_at=now, platform_status=PlayStatus.PENDING)
    session.add(warning)
    session.flush()
    _incident_for(session, call, now)
    events.record(session, CallWarned(call.call_sid, reason, call.handler_id, call.team_id, warning_id=warning.id,
                                      at=now))
    log.info("call_warned", call_sid=call.call_sid, caller=call.caller, rule="T1", outcome="warned", user=user.username)
    return warning


def _same_act(session: Session, existing: Termination, act: dict[str, Any]) -> Termination:
    """CONTRACT: repeating a termination returns the same termination. A repeat may leave optional
    parts out, but anything it does say must agree with what was stored: a different request on a
    terminated call (another reason, an immediate reason added, other note text) is refused, not
    silently answered with the old one."""
    from call_flows.calls.write_up import pending_fields  # it builds on this module

    note = session.get(CaseNote, existing.case_note_id) if existing.case_note_id else None
    fields = note.fields if note else (pending_fields(session, existing.id) or {})  # written up after the notice
    stored = {"reason": existing.reason, "immediate_reason": existing.immediate_reason,
              "immediate_detail": existing.immediate_detail, "case_reference": existing.case_reference,
              **fields}
    if any(value is not None and stored.get(key) != value for key, value in act.items()):
        raise CallEnded(f"the call was already ended for behaviour (termination {existing.id}) with other "
                        "details; nothing was changed. Add anything further to the case note or incident record")
    return existing


def _insert_once(session: Session, values: dict[str, Any]) -> Termination | None:
    """Insert the call's termination; None when the call has one already (its unique call_id). On
    PostgreSQL one `INSERT ... ON CONFLICT (call_id) DO NOTHING RETURNING` (9.16: not SAVEPOINT,
    INSERT and RELEASE on the press's path)."""
    if session.get_bind().dialect.name == "postgresql":
        insert = pg_insert(Termination).values(**values).on_conflict_do_nothing(index_elements=["call_id"])
        return session.scalars(insert.returning(Termination), execution_options={"populate_existing": True}).first()
    termination = Termination(**values)
    try:
        with session.begin_nested():
            session.add(termination)
            session.flush()
    except IntegrityError:
        return None
    return termination


@dataclass
class TerminationResult:
    termination: Termination
    created: bool


def terminate(session: Session, call_sid: str, user: User, reason: str, immediate_reason: str | None,
              immediate_detail: str | None, case_reference: str | None, note: dict[str, Any] | None,
              now: datetime) -> TerminationResult:
    """T3-T5: end the call after a warning (or a recorded immediate reason), write the case note,
    open the incident record and queue the line manager's callback.

    A repeat whose every stated part agrees with the stored termination (parts left out agree)
    returns the same termination (created=False). Raises CallEnded when the call is over, or when it was already
    terminated by a different act (what this request says would otherwise be dropped unseen);
    WarningRequired (T3) without a warning or an immediate reason; InvalidInput for bad fields.
    Records CallTerminated: on commit the final notice is handed over first, then the write-up (the
    case note, incident, callback task and recovery time: call_flows/follow_ups.py, 9.16) follows."""
    call, existing = get_call_and_termination(session, call_sid)
    if immediate_detail and not immediate_reason:
        raise InvalidInput("immediate_detail was given without an immediate_reason: choose the immediate reason "
                           "(T3) or leave the detail out")
    if immediate_reason == "other_serious" and not immediate_detail:
        raise InvalidInput("immediate_reason other_serious needs immediate_detail")
    given_reference = case_reference
    callback = callback_of(session, call)  # M2: ending the manager's callback belongs to that callback
    case_reference = given_reference or (callback.case_reference if callback else f"CALL-{call.call_sid}")
    fields = note or {}
    _check_may_act(session, call, user)  # R9: before anything about the call is answered
    act = {"reason": reason, "immediate_reason": immediate_reason, "immediate_detail": immediate_detail,
           "case_reference": given_reference, **fields}
    if existing:
        return TerminationResult(_same_act(session, existing, act), created=False)
    check_live(session, call, terminated=False)
    warned = session.scalar(select(CallWarning.id).where(CallWarning.call_id == call.id).limit(1)) is not None
    if not warned and not immediate_reason:  # T3: terminate only after a warning
        raise WarningRequired("no warning was given on this call; warn first or give an immediate_reason")
    termination = _insert_once(session, dict(
        call_id=call.id, caller=call.caller, reason=reason, immediate_reason=immediate_reason,
        immediate_detail=immediate_detail, case_reference=case_reference, terminated_by_id=user.id, created_at=now,
        platform_status=PlayStatus.PENDING))
    if termination is None:  # a concurrent request won the race: return its termination if it is this act
        winner = session.scalar(select(Termination).where(Termination.call_id == call.id))
        assert winner is not None  # the unique call_id that refused ours is the winner's
        return TerminationResult(_same_act(session, winner, act), False)
    events.record(session, CallTerminated(
        call.call_sid, reason, immediate_reason == ImmediateReason.THREAT_OF_VIOLENCE, call.handler_id, call.team_id,
        termination_id=termination.id, author_id=user.id, fields=fields, at=now))
    log.info("call_terminated_immediately" if immediate_reason else "call_terminated", call_sid=call.call_sid,  # T3
             case_reference=case_reference, rule="T3", outcome=immediate_reason or "after_warning", user=user.username)
    return TerminationResult(termination, created=True)


def callback_of(session: Session, call: Call) -> CallbackTask | None:
    """The callback task a manager's callback call (direction "callback") belongs to: the task that
    dialled it (while under way), else the one whose callback case note names it; None otherwise."""
    if call.direction != "callback":
        return None
    task = session.scalar(select(CallbackTask).where(CallbackTask.dial_call_id == call.id))
    if task is None:
        note = session.scalar(select(CaseNote).where(CaseNote.call_id == call.id, CaseNote.kind == "callback")
                              .order_by(CaseNote.id.desc()).limit(1))
        task_id = (note.known or {}).get("callback_task_id") if note else None
        task = session.get(CallbackTask, task_id) if task_id else None
    return task


def _callback_incident(session: Session, task: CallbackTask, call: Call, termination: Termination,
                       now: datetime, serious: bool) -> Incident:
    """M2 "record the incident": the callback's termination is added to the original incident record
    (opened for the call the callback is about), never to a second, unconnected one."""
    incident = _incident_for(session, call, now, serious)
    incident.case_reference = incident.case_reference or task.case_reference
    task.incident_id = incident.id
    entry = {"ended_for_behaviour": termination.id, "call_sid": call.call_sid, "reason": termination.reason,
             "immediate_reason": termination.immediate_reason, "at": now.isoformat()}
    details = incident.details or {}
    incident.details = {**details, "callback_terminations": [*details.get("callback_terminations", []), entry]}
    incident.picked_up_at = incident.picked_up_at or now
    return incident
