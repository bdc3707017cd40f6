"""Voice webhooks: ring time (inbound), call status, and conference events."""

from xml.sax.saxutils import escape

import psycopg
from flask import Response, current_app, request
from sqlalchemy.exc import DBAPIError

from call_flows.calls import ring, status, twiml
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.calls import live_card
from call_flows.events import CallRinging
from call_flows.phone import classify_caller, mask
from call_flows import logs
from call_flows import live_events
from call_flows.unit_of_work import committed_live
from storage.ring import ring_statement
from storage.ring_journal import JournalUnavailable

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
    """`record_and_answer`, once more on a fresh connection when the first attempt met a dead one
    (PostgreSQL restarted or its connections cut: the kept and pooled connections are all dead, and
    the first ring after would otherwise be answered without flags and without its call stored).
    Safe: a ring is recorded once per CallSid, however often it is tried. Raises what the retry raises."""
    try:
        return record_and_answer(call_sid, form)
    except Exception as exc:
        if not dead_connection(exc):
            raise
        log.warning("ring_time_connection_dead; retried on a fresh connection", call_sid=call_sid)
        refresh_pool(current_app.extensions["engine"])
        return record_and_answer(call_sid, form)


def dead_connection(exc: BaseException) -> bool:
    """A connection-level database error (the driver's own, or SQLAlchemy's wrapping of one)."""
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)) or (
        isinstance(exc, DBAPIError) and (exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError)))


def refresh_pool(engine) -> None:
    """Make the pool drop its dead connections: a ping on a pooled one that fails is a disconnect to
    SQLAlchemy, which then invalidates every connection the pool holds (the next checkout connects)."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:
        pass


def record_and_answer(call_sid: str, form) -> str:
    """Record the ring once per CallSid, store and publish its flags, and answer the ring's TwiML
    (C3 routing for a restricted caller). `form` is the webhook's form (a MultiDict); needs an app
    context, not a request (app/twilio_hooks/lean.py calls it outside Flask's request pipeline).
    With the ring journal (storage/ring_journal.py, issue 13) a caller whose flags are known is
    recorded in Redis in one round trip and the row written behind; otherwise (no journal, the day's
    counts not ready, Redis failing) the database records it. Raises when neither can."""
    caller = classify_caller(form.get("From"), current_app.config["DEFAULT_REGION"])
    called, now = form.get("To"), utcnow()
    journal = current_app.extensions.get("ring_journal")
    snapshot = current_app.extensions.get("ring_snapshot")
    declined = None
    if journal is not None and snapshot is not None:
        answer, declined = journal_only(journal, snapshot, call_sid, caller, called, now)
        if answer is not None:
            return answer
    with ring_connection() as conn:
        settings = org_settings.load(conn)
        if journal is not None:
            return journaled_or_recorded(conn, journal, snapshot, call_sid, caller, called, now, settings, declined)
        flags = ring.record_ring(conn, call_sid, caller, called, now, settings, ring_statement(conn, snapshot, settings))
        routing = ring.restriction_routing(conn, flags.restriction_id, now, settings) if flags.restriction_id else None
    if flags.new_call:  # the ring statement committed on its own connection; this publishes its event
        live_events.publish(current_app.extensions["handover"].bus, ringing_live(
            call_sid, caller, flags, now, routing.get("officer_id") if routing else None))
    return ring_twiml(call_sid, settings, events_url(), routing)


def journal_only(journal, snapshot, call_sid: str, caller, called: str | None, now) -> tuple[str | None, bool | None]:
    """The common ring, without a database connection: settings cached, flags from the snapshot, no
    C3 restriction to route. Returns (TwiML, None) when the journal recorded it; (None, None) when it
    was not asked (the path with a connection asks it); (None, True or False) when it declined (the
    day not ready, a CallSid seen but not waiting; False: Redis failed): the database must record the
    ring then, and the journal must not be asked again (a second run of its script could take the
    first one's CallSid for a repeated webhook and record nothing)."""
    settings = org_settings.cached()
    if settings is None:
        return None, None
    known = snapshot.flags(caller.e164, now, ring.day_bounds(now, settings)["since"])
    if known is None or known["restriction_id"]:
        return None, None
    try:
        flags = journal.ring(call_sid, caller, called, now, settings, known,
                             lambda f: ringing_live(call_sid, caller, f, now, None))
    except JournalUnavailable:
        return None, False
    return (None, True) if flags is None else (ring_twiml(call_sid, settings, events_url(), None), None)


def journaled_or_recorded(conn, journal, snapshot, call_sid: str, caller, called: str | None, now, settings,
                          declined: bool | None) -> str:
    """The ring with a connection, the journal running: flags from the snapshot or a read, C3's
    routing, then the journal unless it declined already (`declined`, see journal_only), else the
    database statement; its live event is published when Redis answers."""
    params = ring.ring_params(call_sid, caller, called, now, settings)
    known = snapshot.flags(params["caller"], now, params["since"]) if snapshot is not None else None
    if known is None:  # the snapshot cannot answer: the flags from a read (nothing written)
        known = ring.read_flags(conn, params)
    routing = ring.restriction_routing(conn, known["restriction_id"], now, settings) if known["restriction_id"] else None
    officer = routing.get("officer_id") if routing else None
    flags, redis_up = None, declined is not False
    if declined is None:
        try:
            flags = journal.ring(call_sid, caller, called, now, settings, known,
                                 lambda f: ringing_live(call_sid, caller, f, now, officer))
        except JournalUnavailable:  # Redis failed: no event waits on it
            redis_up = False
    if flags is None:  # the database records it (on a day not ready its CallSid is counted already)
        flags = ring.record_ring(conn, call_sid, caller, called, now, settings, ring_statement(conn, snapshot, settings))
        if flags.new_call and redis_up:
            live_events.publish(current_app.extensions["handover"].bus, ringing_live(call_sid, caller, flags, now, officer))
    return ring_twiml(call_sid, settings, events_url(), routing)


def ringing_live(call_sid: str, caller, flags: ring.RingFlags, now, officer_id: int | None) -> dict:
    """The `call_ringing` live event with its card (R1, R10, C3; C3's named officer), as published."""
    card = live_card.ringing_card(call_sid, caller, flags.marker, flags.restriction_id, flags.signals, now)
    return committed_live(CallRinging(
        call_sid, mask(caller.e164), caller.kind, flags.marker, flags.signals, bool(flags.restriction_id),
        now.isoformat(), officer_id, card))


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
            inbound = form.get("Direction") == "inbound"  # its row, if lost, is recorded from here (issue 13)
            status.apply_call_status(
                uow.session, form.get("CallSid", "")[:64], form.get("CallStatus", "")[:20],
                form.get("CallDuration"), form.get("SequenceNumber"),
                request.headers.get("I-Twilio-Idempotency-Token"), utcnow(), form.get("Timestamp"),
                classify_caller(form.get("From"), current_app.config["DEFAULT_REGION"]) if inbound else None,
                form.get("To"))
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
