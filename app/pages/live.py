"""Shared by the console and board pages: the role check (`page_roles`, app/access.py), and the
server-sent event stream (`event_stream` declares one). Each page refetches its full snapshot on
(re)connect, so a dropped connection or a restart heals by itself; between, the board applies the
card a call event carries (issue 13 item 4) and the console refetches after each event."""
import json
import socket
import time

from flask import Blueprint, Response, current_app, request

from call_flows.staff.live_scope import Reader, may_see, reader_for, shown
from call_flows import logs

from call_flows import live_events
from ..access import allow as page_roles  # noqa: F401  (one declaration for API and pages)
from ..auth import current_staff
from . import stream_slots

log = logs.get_logger(__name__)
LIFETIME_S = 300  # each stream ends after 5 minutes; EventSource reconnects (frees workers, picks up deploys)
HEARTBEAT_S = 15
RETRY_MS = 2000
# Only these keys of an event reach the browser (numbers are already masked by the publishers).
PUBLIC_KEYS = ("kind", "call_sid", "caller", "caller_kind", "marker", "signals", "restricted", "at", "status",
               "handler_id", "team_id", "reason", "serious", "user_id", "username", "lead_id", "lead", "ends_at",
               "card", "place")  # card: the call as the board shows it (supervisors only, live_scope.shown)


def client_gone(sock) -> bool:
    """True when the browser closed the connection (a closed tab): the socket reads end-of-file.
    An EventSource sends nothing after its request, so a peek never consumes anything."""
    if sock is None:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # open, nothing to read
    except ValueError:
        return False  # a TLS socket cannot peek: the next write tells
    except OSError:
        return True  # reset or closed


def stream_events(app, reader: Reader, lifetime: float = LIFETIME_S, heartbeat: float = HEARTBEAT_S, sock=None,
                  subscription=None):
    """A generator of SSE text carrying only the events `reader` may see (call_flows.staff.live_scope).
    Subscribes before returning (or uses `subscription`), so nothing published afterwards is missed.
    Ends after `lifetime` seconds, or within about a second of the client going away (`sock`: the
    connection's socket)."""
    subscription = subscription or live_events.subscription(app.extensions["events"])

    def generate():
        started = quiet_since = time.monotonic()
        try:
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            while time.monotonic() - started < lifetime:
                event = subscription.get(timeout=min(1.0, lifetime))
                if client_gone(sock):
                    return  # frees the thread now, not at the next keep-alive
                now = time.monotonic()
                if event is None or not may_see(reader, event):
                    if now - quiet_since >= heartbeat:
                        quiet_since = now
                        yield ": keepalive\n\n"
                    continue
                quiet_since = now
                public = shown(reader, {k: event[k] for k in PUBLIC_KEYS if k in event})
                yield f"data: {json.dumps(public, default=str)}\n\n"
        finally:
            subscription.close()

    return generate()


def _too_many(message: str) -> Response:
    body = json.dumps({"error": {"code": "too_many_streams", "message": message}})
    return Response(body, status=503, mimetype="application/json",
                    headers={"Retry-After": str(stream_slots.RETRY_AFTER_S), "Cache-Control": "no-store"})


def event_stream(blueprint: Blueprint, rule: str, endpoint: str, *roles: str) -> None:
    """Declare a page's live stream: GET `rule` answers `sse_response()` to staff in `roles` only."""
    blueprint.add_url_rule(rule, endpoint, page_roles(*roles)(sse_response), methods=["GET"])


def sse_response() -> Response:
    """The signed-in reader's live stream, or 503 with Retry-After when this process or this
    user already holds as many streams as allowed (9.9: ring time is answered whatever the number
    of open boards and consoles)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's target
    user = current_staff()
    max_streams, max_per_user = stream_slots.limits(app.config)
    release = stream_slots.slots(app).acquire(user.id, max_streams, max_per_user)
    if release is None:
        log.info("live_stream_refused", outcome="cap_reached", user=user.username)
        return _too_many("Too many live streams are open; the page refreshes by itself and retries.")
    try:
        subscription = live_events.subscription(app.extensions["events"])
    except Exception:
        release()
        log.warning("live_events_unavailable", exc_info=True)
        return Response("live events unavailable\n", status=503, mimetype="text/plain",
                        headers={"Retry-After": str(stream_slots.RETRY_AFTER_S)})
    stream = stream_events(app, reader_for(user.id, user.role, user.team_id),
                           lifetime=app.config.get("SSE_LIFETIME_S", LIFETIME_S), subscription=subscription,
                           sock=request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket"))

    def closed() -> None:  # also when the server closes a stream that never started
        subscription.close()
        release()

    response = Response(stream, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.call_on_close(closed)
    return response
