"""Call status and conference callbacks: keep each call's state; a repeated delivery changes nothing."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from call_flows import events
from call_flows.calls.pending import find_call
from call_flows.clock import parse_http_date
from call_flows.events import CallStatusChanged
from call_flows.models import Call, Termination, WebhookReceipt
from call_flows.phone import Caller, stored_text
from call_flows import logs
from call_flows.vocabulary import ENDED, CallStatus

log = logs.get_logger(__name__)
ORDER: dict[str, int] = {CallStatus.QUEUED: 0, CallStatus.INITIATED: 1, CallStatus.RINGING: 2,
                         CallStatus.IN_PROGRESS: 3, **{s: 4 for s in ENDED}}


def why_ended(session: Session, call: Call, terminated: bool | None = None) -> str | None:
    """Why no act may be taken on `call` any more, or None while it is live (CONTRACT `call_ended`).

    A call is over when it was ended for behaviour (T3: a termination row, even before the platform
    has played the final notice; said first, as the more telling reason once the platform reports
    the call completed too), when its status is final (completed, busy, no-answer, failed,
    canceled), or when it has an end time. `terminated`: whether it has a termination row, when the
    caller has read that already (None: read it here)."""
    if terminated is None:
        terminated = session.scalar(select(Termination.id).where(Termination.call_id == call.id).limit(1)) is not None
    if terminated:
        return "the call was ended for behaviour (T3)"
    if call.status in ENDED or call.ended_at is not None:
        return f"the call has ended ({call.status})"
    return None


@dataclass
class StatusChange:
    call_sid: str
    status: str
    handler_id: int | None = None  # who may see the change (call_flows.staff.live_scope)
    team_id: int | None = None


def first_delivery(session: Session, key: str, now: datetime) -> bool:
    """Record a webhook's idempotency key; False when it was seen before."""
    try:
        with session.begin_nested():
            session.add(WebhookReceipt(key=key[:200], received_at=now))
    except IntegrityError:
        return False
    return True


def _answered_at(call: Call, timestamp: str | None, now: datetime) -> datetime:
    """When the call was answered, for an `in-progress` callback: Twilio's Timestamp when it sent one;
    for a call that already ended, its end less its duration (CallDuration counts from the answer);
    else now."""
    sent = parse_http_date(timestamp)
    if sent is not None and sent <= now:
        return sent
    if call.ended_at is not None and call.duration_s is not None:
        return call.ended_at - timedelta(seconds=call.duration_s)
    return call.ended_at or now


def apply_call_status(session: Session, call_sid: str, call_status: str, duration: object, sequence: object,
                      idempotency_token: str | None, now: datetime, timestamp: str | None = None,
                      inbound_caller: Caller | None = None, called: str | None = None) -> StatusChange | None:
    """Move the call forward (never backwards: callbacks can arrive out of order). An `in-progress`
    callback that arrives late (after the call ended, or after another status) still sets
    `answered_at` when it is missing. `inbound_caller`: the callback is for an inbound call from this
    caller; when no row exists for it (ring time's row was lost: the database failed at ring time, or
    Redis lost a row written behind, issue 13) the call is recorded from the callback, without
    ring-time flags, so no call is lost."""
    if call_status not in ORDER or not call_sid:
        return None
    key = f"idem:{idempotency_token}" if idempotency_token else f"status:{call_sid}:{call_status}:{sequence or ''}"
    if not first_delivery(session, key, now):
        return None
    call = find_call(session, call_sid)
    if call is None and inbound_caller is not None:
        call = recreate_call(session, call_sid, inbound_caller, called, now)
    if call is not None and call_status == CallStatus.IN_PROGRESS and call.answered_at is None:
        call.answered_at = _answered_at(call, timestamp, now)
    if call is None or ORDER[call_status] < ORDER.get(call.status, 0) or call.status in ENDED:
        return None
    call.status = call_status
    if call_status in ENDED:
        call.ended_at = now
        if duration is not None and str(duration).isdigit():
            call.duration_s = int(str(duration))
    events.record(session, CallStatusChanged(call.call_sid, call.status, call.handler_id, call.team_id))
    return StatusChange(call.call_sid, call.status, call.handler_id, call.team_id)


def recreate_call(session: Session, call_sid: str, caller: Caller, called: str | None, now: datetime) -> Call | None:
    """An inbound call that has no row, recorded from a later callback: started now, ringing (the
    callback then moves it on), no ring-time flags (nobody saw any)."""
    call = Call(call_sid=call_sid, direction="inbound", caller=caller.e164, caller_kind=caller.kind,
                caller_raw=caller.raw, called=stored_text(called), status=CallStatus.RINGING, started_at=now)
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:  # written meanwhile (a ring journal's flusher): that row is the call
        return session.scalar(select(Call).where(Call.call_sid == call_sid))
    log.warning("call_recreated_from_status_callback", call_sid=call_sid)
    return call


def apply_conference_event(session: Session, friendly_name: str, conference_sid: str, event: str) -> None:
    if not friendly_name.startswith("cg-") or not conference_sid:
        return
    call = find_call(session, friendly_name[3:])
    if call is not None and call.conference_sid is None:
        call.conference_sid = conference_sid
