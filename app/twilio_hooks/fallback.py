"""Twilio's fallback URL (CONTRACT; Twilio "Availability and Reliability"): Twilio requests it, with
`ErrorCode` and `ErrorUrl`, when it could not fetch or run the TwiML of the primary URL. The caller
never hears Twilio's application error: they are connected, or told to ring back."""

from flask import request
from sqlalchemy import select

from call_flows.calls import twiml
from call_flows.calls.pending import find_call
from call_flows import settings as org_settings
from call_flows.calls.control import heard_a_warning
from call_flows.models import Termination
from call_flows import logs
from call_flows.vocabulary import ENDED

from ..db import db_session
from . import bp
from .signature import twilio_signed
from .voice import answer_ring, events_url, twiml_response

log = logs.get_logger(__name__)


@bp.post("/voice/fallback")
@twilio_signed
def fallback():
    """A call we know goes back into its conference (after a termination: the final notice, then the
    end); a new inbound call is recorded as at ring time and connected; anything else, or any fault
    here, tells the caller to ring back."""
    form = request.form
    call_sid = form.get("CallSid", "")[:64]
    log.warning("twilio_fallback", call_sid=call_sid, error_code=form.get("ErrorCode", "")[:16],
                error_url=form.get("ErrorUrl", "")[:300])
    try:
        session = db_session()
        settings = org_settings.load(session)
        call = find_call(session, call_sid) if call_sid else None
        if call is None:
            if not call_sid or form.get("Direction", "inbound") != "inbound":
                return twiml_response(twiml.ring_back(settings))
            return twiml_response(answer_ring(call_sid, form))
        if session.scalar(select(Termination.id).where(Termination.call_id == call.id)) is not None:
            # T3: the final notice ("you were warned" only after a warning was played), then the end
            return twiml_response(twiml.termination(settings, warned=heard_a_warning(session, call.id)))
        if call.status in ENDED:
            return twiml_response(twiml.ring_back(settings))
        return twiml_response(twiml.rejoin(call.call_sid, settings, events_url()))
    except Exception:
        log.exception("fallback for call failed; telling the caller to ring back", call_sid=call_sid)
        return twiml_response(twiml.ring_back(org_settings.cached_or_defaults()))
