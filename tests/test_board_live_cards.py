"""Issue 13 item 4: a call event carries its board card, built once when the event is published
(not per open board), so one event costs the same queries whether 1 or 10 boards are open; the card
is the snapshot's card of that call, and only supervisors' streams carry it (R9)."""
import json

from sqlalchemy import event

from app.pages.live import stream_events
from call_flows.staff.live_scope import Reader
from tests.page_helpers import accept, add_marker
from tests.test_board import snap

EVERY_TEAM = Reader(1, "supervisor", None)


def _events(stream) -> list[dict]:
    return [json.loads(chunk.split("data: ", 1)[1]) for chunk in stream if chunk.startswith("data: ")]


def _warn_with_boards_open(app, client, sid, who, boards):
    """Warn `sid` with `boards` open board streams; (statements run, each stream's events)."""
    streams = [stream_events(app, EVERY_TEAM, lifetime=0.3) for _ in range(boards)]
    statements = []

    def count(*args):
        statements.append(args[2])

    engine = app.extensions["engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.post(f"/api/v1/calls/{sid}/warnings", headers=who["headers"],
                           json={"reason": "abuse"}).status_code == 201
        received = [_events(s) for s in streams]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements, received


def test_t1_one_warning_costs_the_same_queries_for_1_or_10_open_boards(app, client, ring, team):
    add_marker(app, "+447700900555", marker=2)
    sids = [ring("+447700900555")[0], ring("+447700900555")[0]]
    for sid in sids:
        accept(client, sid, team["handler"])
    one, (events_one,) = _warn_with_boards_open(app, client, sids[0], team["handler"], 1)
    ten, events_ten = _warn_with_boards_open(app, client, sids[1], team["handler"], 10)
    assert len(ten) == len(one)
    for sid, received in [(sids[0], events_one)] + [(sids[1], e) for e in events_ten]:
        (warned,) = [e for e in received if e["kind"] == "call_warned"]
        assert warned["call_sid"] == sid and warned["place"] == "calls"
        assert warned["card"]["marker"] == 2 and [w["reason"] for w in warned["card"]["warnings"]] == ["abuse"]


def test_r1_t1_the_event_card_is_the_snapshots_card(app, client, ring, team):
    stream = stream_events(app, EVERY_TEAM, lifetime=0.3)
    sid = ring("+447700900123")[0]
    accept(client, sid, team["handler"])
    assert client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"],
                       json={"reason": "abuse"}).status_code == 201
    received = _events(stream)
    cards = {e["kind"]: (e["place"], e["card"]) for e in received}
    assert cards["call_ringing"][0] == "ringing" and cards["call_ringing"][1]["handler"] is None
    assert cards["call_accepted"][0] == "calls"
    (on_board,) = [c for c in snap(app, "supervisor")["calls"] if c["call_sid"] == sid]
    assert cards["call_warned"][1]["warnings"][0]["reason"] == "abuse"
    last = received[-1]
    assert last["place"] == "calls" and {k: (v, on_board[k]) for k, v in last["card"].items() if v != on_board[k]} == {}


def test_r9_only_supervisors_streams_carry_the_card(app, client, ring, team, staff):
    colleague = staff.add("colleague", "call_handler", manager="manager", team="Passports North")
    from app.db import db_session
    from call_flows.models import User
    from call_flows.staff.live_scope import reader_for

    with app.app_context():
        s = db_session()
        readers = {name: reader_for(u.id, u.role, u.team_id) for name, u in
                   ((n, s.get(User, p["id"])) for n, p in (("colleague", colleague), ("supervisor", team["supervisor"])))}
    streams = {name: stream_events(app, r, lifetime=0.3) for name, r in readers.items()}
    sid = ring("+447700900123")[0]
    accept(client, sid, team["handler"])
    seen = {name: _events(s) for name, s in streams.items()}
    assert [e["kind"] for e in seen["colleague"]] == ["call_ringing", "call_accepted"]
    assert not any("card" in e or "place" in e for e in seen["colleague"])
    assert all(e["card"]["call_sid"] == sid for e in seen["supervisor"])


def test_r1_r10_ring_time_builds_the_ringing_card_as_the_snapshot_shows_it(app, ring, team):
    add_marker(app, "+447700900555", marker=1)
    stream = stream_events(app, EVERY_TEAM, lifetime=0.3)
    sid = ring("+447700900555")[0]
    (ringing,) = [e for e in _events(stream) if e["kind"] == "call_ringing"]
    (on_board,) = [c for c in snap(app, "supervisor")["ringing"] if c["call_sid"] == sid]
    assert ringing["place"] == "ringing" and ringing["card"]["marker"] == 1
    assert {k: (v, on_board[k]) for k, v in ringing["card"].items() if v != on_board[k]} == {}


def test_r1_r10_c3_ringing_card_is_card_json_of_the_ringing_call():
    """ring time writes the ringing card out by hand (no ORM Call on the hot path): key for key the
    card `card_json` gives that call, for a number (masked, with its area), a withheld caller, flags or none."""
    from datetime import datetime, timezone

    from call_flows.calls.board import Card, flags_json
    from call_flows.calls.live_card import card_json, ringing_card
    from call_flows.models import Call
    from call_flows.phone import classify_caller

    at = datetime(2026, 11, 30, 9, 15, tzinfo=timezone.utc)
    for raw, e164, kind, marker, restriction, signals in [
            ("07700 900555", "+447700900555", "number", 1, None, ["repeat_warnings"]),
            ("+44 113 496 0000", "+441134960000", "number", None, 7, []),
            ("+33 1 23 45 67 89", "+33123456789", "number", None, None, []),
            ("+1 212 555 0123", "+12125550123", "number", None, None, ["many_calls_today"]),
            ("+39 06 1234 5678", "+390612345678", "number", 2, None, []),
            ("anonymous", None, "withheld", None, None, [])]:
        call = Call(call_sid="CA" + "f" * 30 + "9A3B", status="ringing", caller=e164, caller_kind=kind,
                    started_at=at, answered_at=None, handler_id=None, team_id=None, needs_note=None, ring_marker=marker)
        expected = card_json(Card(call, [], None, flags_json(marker, restriction, list(signals)), None, None))
        card = ringing_card(call.call_sid, classify_caller(raw), marker, restriction, signals, at)
        assert json.dumps(card, sort_keys=True) == json.dumps(expected, sort_keys=True)
