"""Ring time without the staff pipeline (issue 13): a small WSGI middleware in front of Flask that
answers `POST /twilio/voice/inbound` (with or without the trailing slash) itself.

The staff pipeline (sessions, sign-in, CSRF, access policies, the throttle, Talisman's per-request
work) costs about as much CPU as the ring itself and does nothing for a Twilio webhook. The lean path
keeps what ring time needs: the 64 KB request limit (MAX_CONTENT_LENGTH / MAX_FORM_MEMORY_SIZE), the
signature check with twilio's RequestValidator against the same URL (signature.public_url), the same
`voice.answer_ring` (R1, R10, C2, C3, the stored flags, the live event) and the same fallback TwiML
when anything inside fails (the caller is never failed), and the response headers the full pipeline
would have sent (taken once from Flask's own after-request hooks).

Anything unusual is handed to Flask unchanged (the body is buffered and replayed), so refusals keep
their one shape: no or an oversized Content-Length (413), a bad or missing signature (403), no CallSid,
another method. Install it before ProxyFix (web_security.init_app) so it sees the fixed environ.
"""
import io
from urllib.parse import unquote

from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from call_flows import settings as org_settings
from call_flows.calls import twiml
from call_flows import logs

from .signature import public_url, validator_for
from .voice import answer_ring

log = logs.get_logger("app.twilio_hooks.voice")  # the same logger (and masking) as the Flask view
PATHS = frozenset({"/twilio/voice/inbound", "/twilio/voice/inbound/"})


def parse_form(text: str) -> list[tuple[str, str]]:
    """`parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")` (what werkzeug parses a
    form with), pair for pair, without its per-field calls: a field without "%" needs no unquoting
    (most of Twilio's). tests/test_ring_lean.py holds the two equal."""
    pairs = []
    for item in text.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = name.replace("+", " "), value.replace("+", " ")
        pairs.append((unquote(name, errors="werkzeug.url_quote") if "%" in name else name,
                      unquote(value, errors="werkzeug.url_quote") if "%" in value else value))
    return pairs


class LeanRing:
    """WSGI middleware: `LeanRing(app)` wraps `app.wsgi_app`; every other request goes to Flask."""

    def __init__(self, app: Flask):
        self.app = app
        self.inner = app.wsgi_app
        self._headers: list[tuple[str, str]] | None = None

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") not in PATHS or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        body = self._read_body(environ)
        if body is None:
            return self.inner(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        answer = self._ring(environ, body)
        if answer is None:  # refused or odd: Flask answers it exactly as before
            environ["wsgi.input"] = io.BytesIO(body)
            return self.inner(environ, start_response)
        payload = answer.encode()
        start_response("200 OK", [*self._response_headers(), ("Content-Length", str(len(payload)))])
        return [payload]

    def _read_body(self, environ) -> bytes | None:
        """The body when it has a Content-Length within the limit, else None (Flask refuses it)."""
        limit = self.app.config.get("MAX_CONTENT_LENGTH") or 64 * 1024
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if length < 0 or length > limit:
            return None
        body = environ["wsgi.input"].read(length)
        return body if len(body) == length else None

    def _ring(self, environ, body: bytes) -> str | None:
        req = Request(environ)
        if req.mimetype != "application/x-www-form-urlencoded":
            return None  # what Twilio never sends: Flask answers it
        try:  # werkzeug's own URL-encoded parse (formparser._parse_urlencoded), without its stream wrapping
            form = MultiDict(parse_form(body.decode()))
        except (UnicodeDecodeError, ValueError):  # bad encoding: Flask's 400
            return None
        signature = req.headers.get("X-Twilio-Signature", "")
        call_sid = form.get("CallSid", "")[:64]
        with self.app.app_context():
            if not signature or not call_sid or not validator_for(self.app).validate(
                    public_url(req, self.app.config), form, signature):
                return None
            try:
                return answer_ring(call_sid, form)
            except Exception:
                log.exception("ring-time lookup failed; connecting without flags", call_sid=call_sid)
                from .voice import events_url
                return twiml.for_ring(call_sid, org_settings.cached_or_defaults(), events_url())

    def _response_headers(self) -> list[tuple[str, str]]:
        """The headers Flask's after-request hooks (Talisman, no-store) give a TwiML answer, built once
        (no before-request hook runs: they are the staff pipeline)."""
        if self._headers is None:
            from flask import Response
            with self.app.test_request_context("/twilio/voice/inbound", method="POST",
                                               base_url=self.app.config.get("PUBLIC_BASE_URL") or None):
                response = self.app.process_response(Response("", mimetype="text/xml"))
            self._headers = [(k, v) for k, v in response.headers.items()
                             if k.lower() not in ("content-length", "set-cookie", "vary")]
        return self._headers


def start_snapshot(app: Flask) -> None:
    """Ring-time flags from memory (issue 13; storage/ring_listener.py) on PostgreSQL: loaded here,
    before the process serves its first request, then kept fresh by a listener thread. On by default
    on PostgreSQL outside tests; RING_SNAPSHOT (config, or the CALLGUARD_RING_SNAPSHOT environment
    variable: 1/0) decides. SQLite, the embedded default, keeps the query."""
    import os

    engine = app.extensions["engine"]
    wanted = app.config.get("RING_SNAPSHOT")
    if wanted is None:
        wanted = os.environ.get("CALLGUARD_RING_SNAPSHOT", "0" if app.config.get("TESTING") else "1") == "1"
    if not wanted or engine.dialect.name != "postgresql":
        return
    from call_flows.calls.ring_snapshot import RingSnapshot
    from storage.ring_listener import RingListener

    snapshot = RingSnapshot()
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    retry_s = app.config.get("RING_LISTENER_RETRY_S") or os.environ.get("CALLGUARD_RING_LISTENER_RETRY_S") or 1.0
    listener = RingListener(conninfo, snapshot, retry_s=float(retry_s))
    if not listener.start_and_wait(timeout=float(app.config.get("RING_SNAPSHOT_WAIT_S", 60.0))):
        log.warning("ring_snapshot_not_loaded; ring time queries the database until it is")
    app.extensions["ring_snapshot"] = snapshot
    app.extensions["ring_listener"] = listener
    from sqlalchemy import event
    event.listen(engine, "engine_disposed", lambda *_: listener.stop())  # its thread ends with the app's engine
    start_journal(app)


def start_journal(app: Flask) -> None:
    """The ring journal (storage/ring_journal.py: rows written behind, C2 counted in Redis) where there
    is Redis and the snapshot; RING_JOURNAL (config, or CALLGUARD_RING_JOURNAL: 1/0) turns it off.
    Its flusher makes today's counts ready before the process serves traffic, when it can."""
    import os

    from call_flows.clock import local_date, utcnow
    from storage.ring_journal import RingJournal

    wanted = app.config.get("RING_JOURNAL")
    if wanted is None:
        wanted = os.environ.get("CALLGUARD_RING_JOURNAL", "1") == "1"
    redis, bus = app.extensions.get("redis"), app.extensions["events"]
    if not wanted or redis is None or not hasattr(bus, "command"):
        return
    try:
        journal = RingJournal(redis, app.extensions["engine"], bus.channel, bus.command)
        today = local_date(utcnow())
        if not journal.ready(today):
            journal.rebuild(today)
    except Exception as exc:  # Redis unreachable, or no calls table yet (`flask db upgrade` on an empty database)
        log.warning("ring_journal_not_started; ring time writes to the database", error=(str(exc).splitlines() or [type(exc).__name__])[0][:200])
        return
    journal.start(utcnow, float(os.environ.get("CALLGUARD_RING_JOURNAL_EVERY_S") or 1.0),
                  float(os.environ.get("CALLGUARD_RING_JOURNAL_BATCH_S") or 0.05))
    app.extensions["ring_journal"] = journal
    app.extensions["pending_calls"].source = journal
    from sqlalchemy import event
    event.listen(app.extensions["engine"], "engine_disposed", lambda *_: journal.stop())


def install(app: Flask) -> None:
    """Put the lean ring path in front of Flask (before web_security wraps wsgi_app in ProxyFix)."""
    app.wsgi_app = LeanRing(app)  # type: ignore[method-assign]
