"""Twilio callbacks for the manager's callback call (M1, M2): the customer's leg reports here, so
the Call row carries the customer's own CallSid (warn and terminate act on that leg alone)."""

from flask import request
from sqlalchemy import select

from call_flows.callbacks import legs, twiml as callback_twiml
from call_flows.clock import utcnow
from call_flows.models import Call, CallWarning, Termination
from call_flows import logs
from call_flows.vocabulary import ENDED

from ..db import db_session, unit_of_work
from . import bp
from .signature import twilio_signed
from .voice import twiml_response

log = logs.get_logger(__name__)


@bp.post("/voice/callback/<int:call_id>/leg")
@twilio_signed
def callback_leg(call_id):
    """The customer's leg of a callback: record its CallSid and move its status forward (M1, M2)."""
    form = request.form
    with unit_of_work() as uow:
        legs.leg_status(uow.session, call_id, form.get("CallSid", "")[:64], form.get("CallStatus", "")[:20], utcnow(),
                        form.get("CallDuration"), form.get("SequenceNumber"),
                        request.headers.get("I-Twilio-Idempotency-Token"), form.get("Timestamp"))
        uow.commit()
    log.info("callback_leg", call_id=call_id, outcome=form.get("CallStatus", "")[:20])
    return "", 204


@bp.post("/voice/callback/<int:call_id>/after")
@twilio_signed
def callback_after(call_id):
    """The manager's leg once the customer's leg left the bridge: rejoin after a warning (M2), else end."""
    try:
        session = db_session()
        call = session.get(Call, call_id)
        ended = call is None or call.status in ENDED or session.scalar(
            select(Termination.id).where(Termination.call_id == call.id)) is not None
        # Only a warning takes the customer out of the bridge and back into a conference; after an
        # ordinary hang-up (whose status callback may come later) the manager's leg just ends.
        warned = not ended and session.scalar(select(CallWarning.id).where(CallWarning.call_id == call.id)) is not None
        return twiml_response(callback_twiml.after_bridge(call.call_sid if call else None, rejoin=warned))
    except Exception:  # never an application error on a call
        log.exception("callback_after_dial_failed", call_id=call_id)
        return twiml_response(callback_twiml.after_bridge(None, rejoin=False))
