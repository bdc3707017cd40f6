"""Shared by the console and board pages: the role check (`page_roles`, app/access.py), and the
server-sent event stream. The stream is only a nudge: each page refetches its full snapshot on
(re)connect and after each event, so a dropped connection or a restart heals by itself."""
import json
import logging
import time

from flask import Response, current_app

from call_flows.visibility import call_owner, teams_in_view

from .. import events
from ..auth import current_staff
from ..db import db_session
from ..access import allow as page_roles  # noqa: F401  (one declaration for API and pages)

log = logging.getLogger(__name__)
LIFETIME_S = 300  # each stream ends after 5 minutes; EventSource reconnects (frees workers, picks up deploys)
HEARTBEAT_S = 15
RETRY_MS = 2000
# Only these keys of an event reach the browser (numbers are already masked by the publishers).
PUBLIC_KEYS = ("kind", "call_sid", "caller", "caller_kind", "marker", "signals", "restricted", "at", "status",
               "handler_id", "team_id", "reason", "serious", "user_id", "username", "lead_id", "lead", "ends_at")


class Audience:
    """R9 on the live streams: a viewer gets an event in full when it is about a ringing call (everyone's;
    numbers already masked), their own call or person, or a team they see; any other event reaches them
    as a bare `{"kind"}` nudge, so their page still refetches its own (scoped) snapshot."""

    def __init__(self, app, user_id: int, teams: list[int] | None):
        self.app, self.user_id, self.teams = app, user_id, teams

    def shown(self, event: dict) -> dict:
        public = {k: event[k] for k in PUBLIC_KEYS if k in event}
        if self.teams is None or event.get("kind") == "call_ringing":
            return public
        if self.user_id in (event.get("handler_id"), event.get("user_id"), event.get("lead_id")):
            return public
        team = event.get("team_id")
        if event.get("call_sid"):
            with self.app.app_context():
                owner_team, handler = call_owner(db_session(), event["call_sid"])
            if handler == self.user_id:
                return public
            team = owner_team if team is None else team
        return public if team is not None and team in self.teams else {"kind": public.get("kind")}


def stream_events(app, lifetime: float = LIFETIME_S, heartbeat: float = HEARTBEAT_S, shown=None):
    """A generator of SSE text. Subscribes before returning, so nothing published afterwards is missed.
    `shown(event)` is what the viewer may see of each event (Audience.shown); by default the public keys."""
    subscription = events.subscription(app)

    def generate():
        started = quiet_since = time.monotonic()
        try:
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            while time.monotonic() - started < lifetime:
                event = subscription.get(timeout=min(1.0, lifetime))
                now = time.monotonic()
                if event is None:
                    if now - quiet_since >= heartbeat:
                        quiet_since = now
                        yield ": keepalive\n\n"
                    continue
                quiet_since = now
                public = shown(event) if shown else {k: event[k] for k in PUBLIC_KEYS if k in event}
                yield f"data: {json.dumps(public, default=str)}\n\n"
        finally:
            subscription.close()

    return generate()


def sse_response() -> Response:
    try:
        app = current_app._get_current_object()
        viewer = current_staff()
        audience = Audience(app, viewer.id, teams_in_view(db_session(), viewer))
        stream = stream_events(app, lifetime=app.config.get("SSE_LIFETIME_S", LIFETIME_S), shown=audience.shown)
    except Exception:
        log.warning("live events unavailable", exc_info=True)
        return Response("live events unavailable\n", status=503, mimetype="text/plain")
    return Response(stream, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
