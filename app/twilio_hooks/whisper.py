"""14.10: the handler's leg asks what to play when the handler answers: the whisper, then the caller's
conference. Signed like every /twilio/ route; answers with or without a trailing slash (CONTRACT)."""

from flask import abort

from call_flows import settings as org_settings
from call_flows.calls import twiml, whisper
from call_flows.clock import utcnow
from call_flows import logs

from ..db import db_session
from . import bp
from .signature import twilio_signed
from .voice import twiml_response

log = logs.get_logger(__name__)


@bp.post("/voice/whisper/<call_sid>")
@bp.post("/voice/whisper/<call_sid>/")
@twilio_signed
def handler_whisper(call_sid: str):
    """TwiML for the handler's answered leg (call_flows.calls.whisper.handler_leg). If the database fails the
    handler is still connected to the caller, without the whisper (DOMAIN principles)."""
    if not call_sid.isalnum() or len(call_sid) > 64:
        abort(404)
    try:
        session = db_session()
        return twiml_response(whisper.handler_leg(session, call_sid, utcnow(), org_settings.load(session)))
    except Exception:
        log.exception("whisper", call_sid=call_sid, outcome="failed_connected_without_it")
        return twiml_response(twiml.handler_join(call_sid, "", org_settings.cached_or_defaults()))
