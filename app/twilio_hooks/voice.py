"""Voice webhooks: ring time (inbound), call status, and conference events."""

from xml.sax.saxutils import escape

from flask import Response, current_app, request

from call_flows.calls import ring, status, twiml
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.calls import live_card
from call_flows.events import CallRinging
from call_flows.phone import classify_caller, mask
from call_flows import logs
from call_flows.unit_of_work import publish_committed
from storage.ring import ring_statement

from ..db import ring_connection, unit_of_work
from . import bp
from .signature import twilio_signed

log = logs.get_logger(__name__)
CONFERENCE_EVENTS = "/twilio/voice/conference"


def twiml_response(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def events_url() -> str:
    """The absolute URL of the conference-events webhook, for the TwiML we answer."""
    return current_app.extensions["platform"].url(CONFERENCE_EVENTS)


@bp.post("/voice/inbound")
@twilio_signed
def inbound():
    """A call arrives (R1, R10, C3): record it, look up flags, and connect the caller to a handler.
    Any fault inside answers TwiML that still connects the caller (DOMAIN principles)."""
    call_sid = request.form.get("CallSid", "")[:64]
    if not call_sid:
        return twiml_response(twiml.for_ring("unknown", org_settings.cached_or_defaults(), None))
    try:
        return twiml_response(answer_ring(call_sid, request.form))
    except Exception:
        log.exception("ring-time lookup failed; connecting without flags", call_sid=call_sid)
        return twiml_response(twiml.for_ring(call_sid, org_settings.cached_or_defaults(), events_url()))


def answer_ring(call_sid: str, form) -> str:
    """Record the ring once per CallSid, store and publish its flags, and answer the ring's TwiML
    (C3 routing for a restricted caller). `form` is the webhook's form (a MultiDict); needs an app
    context, not a request (app/twilio_hooks/lean.py calls it outside Flask's request pipeline).
    Raises when the database cannot be reached."""
    caller = classify_caller(form.get("From"), current_app.config["DEFAULT_REGION"])
    now = utcnow()
    with ring_connection() as conn:
        settings = org_settings.load(conn)
        statement = ring_statement(conn, current_app.extensions.get("ring_snapshot"), settings)
        flags = ring.record_ring(conn, call_sid, caller, form.get("To"), now, settings, statement)
        routing = ring.restriction_routing(conn, flags.restriction_id, now, settings) if flags.restriction_id else None
    if flags.new_call:  # the ring statement committed on its own connection; this publishes its event
        card = live_card.ringing_card(call_sid, caller, flags.marker, flags.restriction_id, flags.signals, now)
        publish_committed(current_app.extensions["handover"].bus, CallRinging(
            call_sid, mask(caller.e164), caller.kind, flags.marker, flags.signals, bool(flags.restriction_id),
            now.isoformat(), routing.get("officer_id") if routing else None, card))  # C3: the named officer
    return ring_twiml(call_sid, settings, events_url(), routing)


_SID = "CA0ring0twiml0template0sid0"  # never a real CallSid: it only appears in the conference name
_template: tuple = (None, None, "")  # (settings, events_url, TwiML with _SID): rebuilt when either changes


def ring_twiml(call_sid: str, settings: org_settings.OrgSettings, events: str | None, routing=None) -> str:
    """twiml.for_ring's answer, byte for byte; without a C3 routing it is built once per settings
    object (reloaded every 30 s) and events URL, then only the CallSid is put in (issue 13: building
    the XML was a sixth of the ring's CPU). The CallSid is escaped as ElementTree escapes text."""
    global _template
    if routing is not None:
        return twiml.for_ring(call_sid, settings, events, routing)
    cached_settings, cached_events, body = _template
    if cached_settings is not settings or cached_events != events:
        body = twiml.for_ring(_SID, settings, events)
        _template = (settings, events, body)
    return body.replace(_SID, escape(call_sid))


@bp.post("/voice/status")
@twilio_signed
def call_status():
    """Call status callbacks keep each call's state and duration; duplicates change nothing."""
    form = request.form
    try:
        with unit_of_work() as uow:  # a change records CallStatusChanged (its live event `call_status`)
            status.apply_call_status(
                uow.session, form.get("CallSid", "")[:64], form.get("CallStatus", "")[:20],
                form.get("CallDuration"), form.get("SequenceNumber"),
                request.headers.get("I-Twilio-Idempotency-Token"), utcnow(), form.get("Timestamp"))
            uow.commit()
    except Exception:
        log.exception("status_callback_failed", call_sid=form.get("CallSid"))
        return Response(status=500)  # Twilio retries status callbacks; nothing half-stored
    return Response(status=204)


@bp.post("/voice/conference")
@twilio_signed
def conference_event():
    """Conference status callbacks: remember the conference's sid for each call."""
    form = request.form
    try:
        with unit_of_work() as uow:  # an exception rolls back
            status.apply_conference_event(uow.session, form.get("FriendlyName", "")[:100],
                                          form.get("ConferenceSid", "")[:64], form.get("StatusCallbackEvent", "")[:32])
            uow.commit()
    except Exception:
        log.exception("conference_event_failed")
        return Response(status=500)
    return Response(status=204)
