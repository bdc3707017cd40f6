"""The customer's leg of a manager's callback call (M1, M2), as the platform reports it.

The callback's TwiML dials the customer with a status callback to LEG_EVENTS (Twilio's events for a
dialled leg: initiated, ringing, answered, completed). The first report names the customer's own
CallSid, which the Call row then carries, so a warning or the final notice is played to the customer
alone. Twilio and the simulated platform report through this same function.
"""
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from call_flows.calls import status
from call_flows.models import Call
from call_flows.vocabulary import BEFORE_ANSWER

LEG_EVENTS = "/twilio/voice/callback/{call_id}/leg"
AFTER_DIAL = "/twilio/voice/callback/{call_id}/after"


def unplaced_sid() -> str:
    """A unique stand-in CallSid for a callback call whose customer's leg the platform has not yet
    reported; no platform knows it (an act on it meets CallerGone), and nothing reads meaning into it."""
    return "unplaced-" + secrets.token_hex(16)


def placed(call: Call) -> None:
    """The platform accepted the callback call (the manager's leg rings first). The Call row waits
    for the customer's leg to report: it is never given the manager's CallSid, so a warning pressed
    meanwhile cannot reach the manager's phone. A leg that already reported (its events may overtake
    the REST answer) is kept as it is."""
    if call.status == "queued":
        call.status = "initiated"


def leg_status(session: Session, call_id: int, leg_sid: str, call_status: str, now: datetime,
               duration: object = None, sequence: object = None, idempotency_token: str | None = None,
               timestamp: str | None = None) -> status.StatusChange | None:
    """Apply one status callback of callback call `call_id`'s customer leg (call_flows.calls.status:
    forward only, a repeated delivery changes nothing). Until the leg has answered, a report from a
    new CallSid names the customer's leg; afterwards only that leg's reports count. None when
    nothing changed (not a callback call, another leg, a repeat)."""
    call = session.get(Call, call_id)
    if call is None or call.direction != "callback" or not leg_sid:
        return None
    if call.call_sid != leg_sid and call.status in BEFORE_ANSWER and call.answered_at is None:
        call.call_sid = leg_sid
        session.flush()
    if call.call_sid != leg_sid:
        return None
    return status.apply_call_status(session, leg_sid, call_status, duration, sequence, idempotency_token, now,
                                    timestamp)
