"""Issue 13 item 4: the board's cards are built in batch (a fixed number of queries); each card is the
one the single-call path gives (R1, R10, C3, T1, T3), and the R9 audit of markers shown still logs
each entry behind a marker once per supervisor and call."""
from datetime import timedelta

from sqlalchemy import event, select

from app.db import db_session
from call_flows.calls import board
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.models import AuditLog, Call, CallWarning, RegisterEntry, Team, User
from app.api.shapes import card_json
from tests.page_helpers import accept, add_marker, queries_of, ring_two_marked


def _cards(app):
    with app.app_context():
        s = db_session()
        calls = list(s.scalars(select(Call).order_by(Call.id)))
        teams = {t.id: t for t in s.scalars(select(Team))}
        names = dict(s.execute(select(User.id, User.username)).all())
        now, settings = utcnow(), org_settings.load(s)
        one_by_one = [card_json(board.call_card(s, c, now, settings, teams, names)) for c in calls]
        queries = []

        def count(*args):
            queries.append(args[2])

        event.listen(s.get_bind(), "before_cursor_execute", count)
        try:
            together = board.call_cards(s, calls, now, settings, teams, names)
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", count)
        return one_by_one, [card_json(c) for c in together], len(queries)


def test_r1_r10_batched_cards_are_the_single_call_cards_in_three_queries(app, client, ring, team):
    add_marker(app, "+447700900555", marker=1)
    add_marker(app, "+447700900666", marker=3)
    sids = [ring(number)[0] for number in ("+447700900555", "+447700900555", "+447700900666", "+447700900111")]
    accept(client, sids[0], team["handler"])
    assert client.post(f"/api/v1/calls/{sids[0]}/warnings", headers=team["handler"]["headers"],
                       json={"reason": "abuse"}).status_code == 201
    one_by_one, together, queries = _cards(app)
    assert together == one_by_one and len(together) == 4
    assert [c["marker"] for c in together] == [1, 1, 3, None] and together[0]["warnings"]
    assert queries <= 3  # warnings, terminations, flags: however many calls


def test_r9_each_marker_on_the_board_is_logged_once_per_supervisor_and_call(app, ring, team):
    ring_two_marked(app, ring)
    with app.app_context():
        s = db_session()
        viewer = s.scalar(select(User).where(User.username == "supervisor"))
        for _ in range(3):  # the board refetches: still one view per call
            board.snapshot(s, viewer, utcnow(), org_settings.load(s))
            s.commit()
        entries = set(s.scalars(select(RegisterEntry.id)))
        views = s.scalars(select(AuditLog).where(AuditLog.entity == "register_entry", AuditLog.action == "view",
                                                 AuditLog.actor_id == viewer.id)).all()
    assert sorted(v.entity_id for v in views) == sorted(entries)  # each entry once, not once per refresh
    assert all(v.detail["via"] == "board" for v in views)


def test_r9_a_team_call_sorted_up_the_board_logs_its_own_callers_entry(app, ring, team):
    """The board shows warned calls first; the marker on each card is logged against its own caller's
    register entry (R9), not the entry of whichever call held that place before the sort."""
    add_marker(app, "+447700900555", marker=1)
    flagged, plain = ring("+447700900555")[0], ring("+447700900111")[0]
    with app.app_context():
        s = db_session()
        now = utcnow()
        for minutes, sid in ((2, flagged), (1, plain)):  # latest answered first: the plain call on top
            call = s.scalar(select(Call).where(Call.call_sid == sid))
            call.status, call.handler_id, call.answered_at = "in-progress", team["handler"]["id"], now - timedelta(minutes=minutes)
            call.team_id = s.scalar(select(User.team_id).where(User.id == team["handler"]["id"]))
        s.add(CallWarning(call_id=s.scalar(select(Call.id).where(Call.call_sid == flagged)), caller="+447700900555",
                          reason="abuse", given_by_id=team["handler"]["id"], created_at=now))
        s.commit()
        viewer = s.scalar(select(User).where(User.username == "supervisor"))
        shown = board.snapshot(s, viewer, now, org_settings.load(s))
        s.commit()
        assert [c.call.call_sid for c in shown.calls] == [flagged, plain]  # the warned call moved up
        assert [c.flags["marker"] for c in shown.calls] == [1, None]
        views = s.scalars(select(AuditLog.entity_id).where(AuditLog.entity == "register_entry",
                                                           AuditLog.actor_id == viewer.id)).all()
        assert views == list(s.scalars(select(RegisterEntry.id)))  # the flagged caller's one entry, once


def _console_queries(app, username):
    from call_flows.calls import console
    shown, queries = queries_of(app, username, console.state)
    return len(shown.ringing), queries


def test_r1_the_consoles_ringing_cards_cost_the_same_queries_for_1_or_3_calls(app, ring, team):
    """Every console shows every ringing call's card (R1): built in batch, not three queries per call."""
    add_marker(app, "+447700900555", marker=1)
    ring("+447700900555")
    one, few = _console_queries(app, "handler")
    ring("+447700900556")
    ring("+447700900557")
    three, more = _console_queries(app, "handler")
    assert (one, three) == (1, 3) and len(more) == len(few)
