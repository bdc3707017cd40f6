"""Issue 13 item 4: the board and the console read each caller's flags (R1, R10, C2, C3) and the register
entry behind each marker shown (R9) in one query. The cards and the views logged are those of the two
separate lookups (`call_cards` without a viewer, then `markers_shown`); the snapshot's queries do not
grow with the calls."""
from datetime import timedelta

from sqlalchemy import select

from app.api.shapes import card_json
from app.db import db_session
from call_flows import settings as org_settings
from call_flows.calls import board
from call_flows.calls.callers import audit
from call_flows.clock import as_utc, utcnow
from call_flows.models import AuditLog, Call, CallWarning, CustomerPhone, RegisterEntry, Team, User
from call_flows.register.shown import markers_shown
from tests.page_helpers import add_marker, queries_of, ring_two_marked


def _views(s, viewer):
    return [(a.entity_id, a.detail["via"]) for a in s.scalars(
        select(AuditLog).where(AuditLog.actor_id == viewer.id, AuditLog.action == "view").order_by(AuditLog.id))]


def _both_ways(app, username="supervisor"):
    """(cards, views logged) by the two lookups, then by the one query; each rolled back."""
    with app.app_context():
        s = db_session()
        calls = list(s.scalars(select(Call).order_by(Call.id)))
        teams = {t.id: t for t in s.scalars(select(Team))}
        names = dict(s.execute(select(User.id, User.username)).all())
        viewer = s.scalar(select(User).where(User.username == username))
        now, settings = utcnow(), org_settings.load(s)
        before = len(_views(s, viewer))
        separate = board.call_cards(s, calls, now, settings, teams, names)
        markers_shown(s, viewer, [(c.caller, card.flags["marker"], as_utc(c.started_at))
                                  for c, card in zip(calls, separate, strict=True)], now, "board")
        old = ([card_json(c) for c in separate], _views(s, viewer)[before:])
        s.rollback()
        together = board.call_cards(s, calls, now, settings, teams, names, shown_to=(viewer, "board"))
        new = ([card_json(c) for c in together], _views(s, viewer)[before:])
        s.rollback()
        return old, new


def test_r1_r9_one_query_gives_the_cards_and_views_of_the_two_lookups(app, ring, team):
    add_marker(app, "+447700900555", marker=3)
    add_marker(app, "+447700900777", marker=2)
    ring("+447700900555")
    ring("+447700900555")  # the same caller twice: its entry logged once on the page
    ring("+447700900777")
    ring("+447700900111")  # no marker
    ring("anonymous")  # withheld: no number, no flags
    with app.app_context():
        s = db_session()
        now = utcnow()
        # a second entry in force for +447700900555, more serious: the card shows 1 and logs that entry
        customer = s.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.phone == "+447700900555"))
        s.add(RegisterEntry(customer_id=customer, status="in_force", marker=1, precautions="x",
                            expires_at=now + timedelta(days=30), created_at=now, added_on=now))
        # +447700900777's entry ended after the ring: the card shows the ring-time marker, logs that entry
        s.execute(RegisterEntry.__table__.update().where(RegisterEntry.customer_id == s.scalar(
            select(CustomerPhone.customer_id).where(CustomerPhone.phone == "+447700900777"))).values(status="removed"))
        s.commit()
    (old_cards, old_views), (new_cards, new_views) = _both_ways(app)
    assert new_cards == old_cards
    assert [c["marker"] for c in new_cards] == [1, 1, 2, None, None]
    assert new_views == old_views and len(new_views) == 2
    with app.app_context():
        s = db_session()
        serious = s.scalar(select(RegisterEntry.id).where(RegisterEntry.marker == 1))
        ended = s.scalar(select(RegisterEntry.id).where(RegisterEntry.marker == 2))
    assert new_views == [(serious, "board"), (ended, "board")]


def test_r9_a_view_logged_since_the_call_started_is_not_logged_again(app, ring, team):
    ring_two_marked(app, ring)
    with app.app_context():
        s = db_session()
        viewer = s.scalar(select(User).where(User.username == "supervisor"))
        entry = {m: s.scalar(select(RegisterEntry.id).where(RegisterEntry.marker == m)) for m in (1, 2)}
        started = {c.caller: as_utc(c.started_at) for c in s.scalars(select(Call))}
        audit(s, viewer, "view", "register_entry", entry[1], started["+447700900555"] + timedelta(seconds=1), via="board")
        audit(s, viewer, "view", "register_entry", entry[2], started["+447700900666"] - timedelta(hours=1), via="board")
        s.commit()
    (_, old_views), (_, new_views) = _both_ways(app)
    assert new_views == old_views == [(entry[2], "board")]  # the first entry's view is already logged for this call


def _snapshot_queries(app):
    shown, queries = queries_of(app, "supervisor", board.snapshot)
    return len(shown.ringing), len(queries)


def test_the_board_snapshot_costs_the_same_queries_for_1_or_3_calls(app, ring, team):
    """Teams, calls (with their terminations, warnings and handlers' names), flags with the entries
    behind the markers, serious incidents, recovery and, when a marker is shown for the first time, the views."""
    add_marker(app, "+447700900555", marker=1)
    ring("+447700900555")
    assert _snapshot_queries(app) == (1, 6)
    ring("+447700900556")
    ring("+447700900557")
    assert _snapshot_queries(app) == (3, 6)


def test_t1_the_snapshots_cards_read_with_the_calls_are_the_single_call_cards(app, ring, team):
    """The board reads each call's warnings with the calls (one row per warning): oldest first, as the
    single-call card has them, and a call without warnings once."""
    warned, plain = ring("+447700900555")[0], ring("+447700900111")[0]
    with app.app_context():
        s = db_session()
        now = utcnow()
        handler = team["handler"]["id"]
        for minutes, sid in ((2, warned), (1, plain)):
            call = s.scalar(select(Call).where(Call.call_sid == sid))
            call.status, call.handler_id, call.answered_at = "in-progress", handler, now - timedelta(minutes=minutes)
            call.team_id = s.scalar(select(User.team_id).where(User.id == handler))
        warned_id = s.scalar(select(Call.id).where(Call.call_sid == warned))
        for seconds, reason in ((30, "threats"), (50, "abuse")):  # the later warning written first
            s.add(CallWarning(call_id=warned_id, caller="+447700900555", reason=reason, given_by_id=handler,
                              created_at=now - timedelta(seconds=seconds)))
            s.flush()
        s.commit()
        viewer = s.scalar(select(User).where(User.username == "supervisor"))
        settings = org_settings.load(s)
        shown = board.snapshot(s, viewer, now, settings)
        teams = {t.id: t for t in s.scalars(select(Team))}
        names = {c.call.handler_id: c.handler for c in shown.calls}
        batch = [card_json(c) for c in shown.calls]
        single = [card_json(board.call_card(s, c.call, now, settings, teams, names)) for c in shown.calls]
        s.rollback()
    assert batch == single
    assert [c["call_sid"] for c in single] == [warned, plain]
    assert [w["reason"] for w in single[0]["warnings"]] == ["abuse", "threats"] and single[1]["warnings"] == []
