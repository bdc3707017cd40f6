"""The supervisor's ring-time board (issue 6; R1, R10, T1, T3, I7): snapshot, filters, recovery,
the live event stream (in-process and Redis pub/sub) and escaping of hostile text."""
from app.db import db_session
from app.simulator import new_call_sid
from call_flows.live_events import publish
from app.pages.live import stream_events
from call_flows.calls import board
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.staff.live_scope import Reader
from call_flows.models import Team, User
from app.api.shapes import board_json
from tests.conftest import make_app
from tests.page_helpers import HOSTILE, accept, add_marker, sign_in

EVERY_TEAM = Reader(1, "supervisor", None)  # a supervisor without a team watches every team


def snap(app, username, **filters):
    with app.app_context():
        session = db_session()
        viewer = session.query(User).filter_by(username=username).one()
        return board_json(board.snapshot(session, viewer, utcnow(), org_settings.load(session), **filters))


def test_r1_every_ringing_call_is_on_the_board_with_its_marker_flagged_first(app, ring, team):
    add_marker(app, "+447700900555", marker=1)
    quiet, _ = ring("+447700900111")
    flagged, _ = ring("+447700900555")
    data = snap(app, "supervisor")
    assert [c["call_sid"] for c in data["ringing"]] == [flagged, quiet]
    first = data["ringing"][0]
    assert first["marker"] == 1 and first["marker_label"] == "Violent" and first["flagged"]
    assert first["caller"].endswith("0555") and "447700900" not in first["caller"]  # masked, last 4 kept
    assert data["ringing"][1]["flagged"] is False


def test_connected_calls_are_only_those_of_the_supervisors_teams(app, client, ring, staff, team):
    other = staff.add("other-handler", "call_handler", team="Benefits South")
    ours, _ = ring("+447700900201")
    theirs, _ = ring("+447700900202")
    accept(client, ours, team["handler"])
    accept(client, theirs, other)
    assert [c["call_sid"] for c in snap(app, "supervisor")["calls"]] == [ours]
    staff.add("head", "supervisor")  # no team: watches every team
    assert {c["call_sid"] for c in snap(app, "head")["calls"]} == {ours, theirs}


def test_filter_by_team_and_site(app, client, ring, staff, team):
    staff.add("head", "supervisor")
    other = staff.add("other-handler", "call_handler", team="Benefits South")
    with app.app_context():
        session = db_session()
        session.query(Team).filter_by(name="Benefits South").one().site = "Leeds"
        session.query(Team).filter_by(name="Passports North").one().site = "Durham"
        session.commit()
        south = session.query(Team).filter_by(name="Benefits South").one().id
    ours, _ = ring("+447700900201")
    theirs, _ = ring("+447700900202")
    accept(client, ours, team["handler"])
    accept(client, theirs, other)
    assert [c["call_sid"] for c in snap(app, "head", team_id=south)["calls"]] == [theirs]
    assert [c["call_sid"] for c in snap(app, "head", site="Durham")["calls"]] == [ours]
    assert snap(app, "head")["sites"] == ["Durham", "Leeds"]


def test_t1_t3_i7_warnings_terminations_and_serious_incidents_on_top(app, client, ring, team):
    h = team["handler"]["headers"]
    plain, _ = ring("+447700900301")
    warned, _ = ring("+447700900302")
    serious, _ = ring("+447700900303")
    for sid in (plain, warned, serious):
        accept(client, sid, team["handler"])
    assert client.post(f"/api/v1/calls/{warned}/warnings", headers=h, json={"reason": "abuse"}).status_code == 201
    assert client.post(f"/api/v1/calls/{warned}/termination", headers=h, json={"reason": "abuse"}).status_code == 201
    assert client.post(f"/api/v1/calls/{serious}/termination", headers=h,
                       json={"reason": "threats", "immediate_reason": "threat_of_violence"}).status_code == 201
    data = snap(app, "supervisor")
    assert [c["call_sid"] for c in data["calls"]][:2] == [serious, warned]
    assert data["calls"][0]["serious"] and data["calls"][0]["termination"]["immediate_reason"] == "threat_of_violence"
    assert data["calls"][1]["termination"]["reason"] == "abuse" and len(data["calls"][1]["warnings"]) == 1
    assert len(data["serious_incidents"]) == 1 and data["serious_incidents"][0]["caller"].endswith("0303")
    assert [r["username"] for r in data["recovering"]] == ["handler"]


def test_board_page_is_for_supervisors_only(app, client, team):
    assert client.get("/board").status_code == 302  # signed out: to the sign-in page
    sign_in(app, client, "handler")
    assert client.get("/board").status_code == 403
    assert client.get("/board/state").status_code == 403


def test_board_page_and_state_escape_hostile_team_names(app, client, ring, staff, team):
    staff.add("head", "supervisor")
    evil = staff.add("evil-handler", "call_handler", team=HOSTILE[:90])
    sid, _ = ring("+447700900401")
    accept(client, sid, evil)
    sign_in(app, client, "head")
    page = client.get("/board").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "\\u003cscript\\u003e" in page
    state = client.get("/board/state").get_json()
    assert state["calls"][0]["team"] == HOSTILE[:90]  # JSON carries it as data; the page sets textContent


def test_event_stream_delivers_published_events_in_process(app):
    stream = stream_events(app, EVERY_TEAM, lifetime=5)
    assert next(stream).startswith("retry: ")
    publish(app.extensions["events"], dict(kind="call_ringing", call_sid="CA1", caller="••••0555", marker=1,
                                           secret="not for browsers"))
    chunk = next(stream)
    assert chunk.startswith("data: ") and '"call_sid": "CA1"' in chunk and '"marker": 1' in chunk
    assert "secret" not in chunk
    stream.close()
    assert app.extensions["events"]._subscribers == []  # a closed stream unsubscribes


def test_event_stream_uses_redis_pub_sub_in_production(database_url, redis_connection):
    app = make_app(database_url, REDIS_CONNECTION=redis_connection)
    try:
        stream = stream_events(app, EVERY_TEAM, lifetime=5)
        next(stream)
        sid = new_call_sid()  # pub/sub is server-wide: other programs' events may arrive on a shared Redis
        publish(app.extensions["events"], dict(kind="call_terminated", call_sid=sid, reason="abuse", serious=False,
                                               handler_id=2, team_id=1))
        chunk = next(c for c in stream if sid in c)
        assert '"kind": "call_terminated"' in chunk and f'"call_sid": "{sid}"' in chunk
        stream.close()
    finally:
        app.extensions["engine"].dispose()


def test_event_stream_sends_keepalives_and_ends_so_the_browser_reconnects(app):
    stream = stream_events(app, EVERY_TEAM, lifetime=0.05, heartbeat=0.0)
    chunks = list(stream)
    assert chunks[0].startswith("retry: ") and ": keepalive\n\n" in chunks
