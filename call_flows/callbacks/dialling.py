"""The manager's callback call (M1, M2): dial, the outbox task that places it, and the outcome.

Dial records a Call row (direction "callback", handler = the manager) before anything reaches the
platform, so the manager has the same warn and terminate controls on it as a handler (M2). The
platform rings the manager's own phone first; when they answer they hear the M1 script and are
connected to the customer, who sees the organisation's number.
"""
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows import logs
from call_flows.jobs import outbox
from call_flows import settings as org_settings
from call_flows.callbacks.legs import AFTER_DIAL, LEG_EVENTS, placed, unplaced_sid
from call_flows.callbacks.work import claimed_by_me, task_for
from call_flows.calls.control import heard_a_warning
from call_flows.errors import Conflict, InvalidInput
from call_flows.events import CallbackDialled, record
from call_flows.labels import note_text
from call_flows.models import Call, CallbackTask, CaseNote, Incident, Termination, User
from call_flows.platform.faults import CallerGone
from call_flows.vocabulary import ENDED, CallbackOutcome, CallStatus, NoteField, TaskStatus
from call_flows.phone import withheld_placeholder
from call_flows.settings import OrgSettings

if TYPE_CHECKING:  # the hand-over imports the tasks' modules through the outbox
    from call_flows.jobs.handover import JobContext

log = logs.get_logger(__name__)


def script(manager: User, organisation: str) -> str:
    """M1: who they are, where they are calling from, why, and that they will look into the query."""
    return (f"This is {manager.shown_name}, a line manager at {organisation}, calling about your recent call. "
            "That call was ended because of the behaviour on the call. "
            "I am calling back to look into your query with you.")


def manager_prompt(settings: OrgSettings) -> str:
    """What the manager hears when they answer, before the customer is dialled."""
    return ("This is your callguard callback. Connecting you to the customer now, from "
            f"{settings.organisation_name}.")


def current_call(session: Session, task: CallbackTask) -> Call | None:
    return session.get(Call, task.dial_call_id) if task.dial_call_id else None


def dial(session: Session, task_id: int, user: User, now: datetime) -> tuple[CallbackTask, Call]:
    """M1: call the customer back through the platform. Pressing it again while the call is under
    way returns the same call (no second dial)."""
    task = task_for(session, task_id, user)
    claimed_by_me(task, user)
    existing = current_call(session, task)
    if existing is not None:
        return task, existing
    if task.retry_at and task.retry_at > now:
        raise Conflict(f"the next attempt is due from {task.retry_at:%Y-%m-%d %H:%M} UTC", code="retry_not_due")
    if not task.caller or withheld_placeholder(task.caller):  # a withheld caller has no number (CONTRACT)
        raise Conflict("the customer's number was withheld: there is no number to call", code="no_number")
    if not user.phone:
        raise Conflict("your account has no phone number to ring first (users add --phone)", code="no_phone")
    original = session.get(Call, task.call_id) if task.call_id else None
    call = Call(call_sid=unplaced_sid(), direction="callback", caller=task.caller,
                caller_kind="number", caller_raw=task.caller, called=original.called if original else None,
                status=CallStatus.QUEUED, started_at=now, handler_id=user.id, team_id=task.team_id,
                ring_marker=original.ring_marker if original else None)
    session.add(call)
    session.flush()
    task.dial_call_id, task.claim_active_at = call.id, now
    outbox.record(session, f"callback-{task.id}-dial-{call.id}", place_callback,
                  {"task_id": task.id, "call_id": call.id}, now=now)
    return task, call


@outbox.task
def place_callback(session: Session, ctx: "JobContext", now: datetime, task_id: int, call_id: int) -> None:
    """Ring the manager's phone with TwiML that speaks to them, then dials the customer presenting the
    organisation's number (TWILIO_CALLER_ID, else the number the customer called). The call takes
    the CallSid the platform reports for the customer's leg (callbacks.legs). Idempotent: a
    call already placed (status moved on from "queued") is not placed again."""
    from call_flows.callbacks.twiml import bridge

    call = session.get_one(Call, call_id)
    if call.status != CallStatus.QUEUED:
        return
    manager = session.get_one(User, call.handler_id)
    assert call.caller is not None and manager.phone is not None  # `dial` placed it only with both
    platform = ctx.platform
    caller_id = platform.caller_id or call.called or manager.phone
    settings = org_settings.load(session)
    twiml = bridge(call.caller, caller_id, manager_prompt(settings), settings,
                   platform.url(LEG_EVENTS.format(call_id=call.id)), platform.url(AFTER_DIAL.format(call_id=call.id)))
    platform.place_call(session, manager.phone, caller_id, twiml, now=now)
    placed(call)
    record(session, CallbackDialled(task_id, call.call_sid))


def record_outcome(session: Session, task_id: int, user: User, outcome: str, note: dict[str, str] | None,
                   now: datetime, settings: OrgSettings) -> CallbackTask:
    """M1/M2: write the case note and close the task, or (no_answer) schedule a retry until the
    configured maximum of attempts, then close it as unreachable."""
    fields = note or {}  # outcome and note arrive valid (OutcomeIn, for the API and the page alike)
    if outcome == CallbackOutcome.RESOLVED and not fields.get(NoteField.TOLD_CUSTOMER):
        raise InvalidInput("M1: note.told_customer is required (what you told the customer)")
    if outcome == CallbackOutcome.BEHAVIOUR_NOT_IMPROVED and not fields.get(NoteField.CUSTOMER_SAID_OR_DID):
        raise InvalidInput("M2: note.customer_said_or_did is required (what the customer said or did)")
    task = task_for(session, task_id, user)
    claimed_by_me(task, user)
    call = current_call(session, task)
    if outcome == "no_answer" and call is None:  # 14.8: an attempt is counted only when one was made
        raise Conflict("No answer can only be recorded after you have called the customer back: "
                       "press Call back first", code="no_dial_attempt")
    if call is not None and outcome != CallbackOutcome.BEHAVIOUR_NOT_IMPROVED and session.scalar(
            select(Termination.id).where(Termination.call_id == call.id)) is not None:
        raise Conflict("M2: this callback was ended for behaviour: record the outcome behaviour_not_improved",
                       code="ended_for_behaviour")
    task.attempts += 1
    attempt = task.attempts
    if outcome == "no_answer":
        if attempt >= settings.callback_max_attempts:
            task.status, task.outcome, task.closed_at, task.retry_at = TaskStatus.CLOSED, CallbackOutcome.UNREACHABLE, now, None
        else:
            task.status, task.outcome = TaskStatus.OPEN, CallbackOutcome.NO_ANSWER
            task.retry_at = now + timedelta(minutes=settings.callback_retry_minutes)
        task.claimed_by_id = task.claimed_at = task.claim_active_at = None
    else:
        task.status, task.outcome, task.closed_at, task.retry_at = TaskStatus.CLOSED, outcome, now, None
    task.outcome_note = note_text(fields) or None  # 14.6: read by people, so labels, not field codes
    session.add(CaseNote(
        case_reference=task.case_reference, call_id=call.id if call else task.call_id, kind="callback",
        author_id=user.id, fields=fields, created_at=now,
        known={"caller": task.caller, "manager": user.username, "attempt": attempt, "outcome": task.outcome,
               "recorded_at": now.isoformat(), "callback_call_sid": call.call_sid if call else None,
               "callback_task_id": task.id}))
    _note_on_incident(session, task, user, attempt, now)
    log.info("callback_outcome", case_reference=task.case_reference, rule="M2" if outcome == "behaviour_not_improved"
             else "M1", outcome=task.outcome, attempt=attempt, user=user.username)
    if call is not None:
        task.dial_call_id = None
        if call.status not in ENDED:
            outbox.record(session, f"callback-{task.id}-finish-{call.id}", finish_callback,
                          {"call_id": call.id, "end_for_behaviour": outcome == CallbackOutcome.BEHAVIOUR_NOT_IMPROVED}, now=now)
    return task


def _note_on_incident(session: Session, task: CallbackTask, user: User, attempt: int, now: datetime) -> None:
    """M1/M2 "record the incident": the callback's outcome is added to the incident record."""
    incident = session.get(Incident, task.incident_id) if task.incident_id else None
    if incident is None:
        return
    entry = {"attempt": attempt, "outcome": task.outcome, "by": user.shown_name, "at": now.isoformat(),
             "note": task.outcome_note}
    incident.details = {**(incident.details or {}), "callbacks": [*(incident.details or {}).get("callbacks", []), entry]}
    incident.picked_up_at = incident.picked_up_at or now


@outbox.task
def finish_callback(session: Session, ctx: "JobContext", now: datetime, call_id: int, end_for_behaviour: bool) -> None:
    """After the outcome: M2 ends a callback that is still live (the customer hears the final notice;
    the platform then reports the leg completed). Any other outcome leaves the call to the people on it."""
    from call_flows.calls import twiml

    call = session.get_one(Call, call_id)
    if call.status in ENDED:
        return
    terminated = session.scalar(select(Termination.id).where(Termination.call_id == call.id))
    if end_for_behaviour and not terminated and call.answered_at is not None:  # the customer's leg answered
        notice = twiml.termination(org_settings.load(session), warned=heard_a_warning(session, call.id))
        try:
            ctx.platform.redirect_call(session, call.call_sid, notice, now=now)
        except CallerGone:  # the customer had already hung up: nothing to play
            pass
