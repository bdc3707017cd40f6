"""R6 reviews and expiry by the periodic jobs, and R8 appeals, with a controllable clock."""
from datetime import timedelta

from sqlalchemy import func, select

from app.db import db_session
from call_flows.register import letters as register_letters, panel as register_panel, reviews as register_reviews
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.models import EmailDelivery, RegisterEntry, RegisterReminder, User
from tests.register_helpers import CALLER, at, in_force, panel
from workers.register_jobs import register_deadlines


def _entry_at(app, members, when, caller=CALLER, source="own", marker=2) -> int:
    """An entry proposed, decided and notified at `when` (services take `now`)."""
    with app.app_context():
        s = db_session()
        settings = org_settings.load(s, fresh=True)
        manager = s.scalar(select(User).where(User.role == "line_manager")) or User(
            username="mgr", role="line_manager", active=True)
        s.add(manager)
        s.flush()
        chair = s.get(User, members[0]["id"])
        entry = register_panel.propose(s, manager, register_panel.Proposal(
            incident_id=None, name="Jo Caller", summary="Abusive calls", phones=[caller], source="partner"),
            when, settings)
        entry.source = source
        register_panel.decide(s, entry.id, register_panel.Decision(
            outcome="add", member_ids=[m["id"] for m in members[:3]], chair_id=chair.id,
            justification="Repeated abuse", marker=marker, precautions="Appointment only"), chair, when, settings)
        register_letters.record_sent(s, entry.id, chair, when + timedelta(hours=1), settings)
        s.commit()
        return entry.id


def test_r6_review_due_after_6_months_and_the_panel_is_reminded_once(app, staff):
    members = panel(staff)
    entry_id = _entry_at(app, members, at(2026, 1, 5, 9))
    with app.app_context():
        s = db_session()
        assert register_reviews.reviews_due(s, at(2026, 7, 5, 9)) == []
        due = register_reviews.reviews_due(s, at(2026, 7, 5, 11))
        assert [d.id for d in due] == [entry_id] and due[0].review_due.isoformat().startswith("2026-07-05T10:00")
    first = register_deadlines(app.extensions["handover"], at(2026, 7, 6, 9))
    assert {"kind": "review_due", "entry_id": entry_id} in first["reminders"]
    assert {"kind": "register_review_due", "entry_id": None} in first["reminders"]
    again = register_deadlines(app.extensions["handover"], at(2026, 7, 6, 9, 1))
    assert again["reminders"] == [] and again["expired"] == []
    with app.app_context():
        s = db_session()
        assert s.scalar(select(func.count()).select_from(RegisterReminder)) == 2
        emails = s.execute(select(EmailDelivery.to_address, EmailDelivery.subject, EmailDelivery.status)
                           .order_by(EmailDelivery.id)).all()
    assert [(to, status) for to, _, status in emails] == [("review.panel@example.org", "sent")] * 2
    assert "six-monthly review" in emails[0][1]


def test_r6_a_kept_entry_is_next_due_6_months_after_its_review(app, staff):
    members = panel(staff)
    entry_id = _entry_at(app, members, at(2026, 1, 5, 9))
    with app.app_context():
        s = db_session()
        register_reviews.review_entry(s, entry_id, s.get(User, members[1]["id"]), "keep", "No new incidents",
                                      at(2026, 7, 10, 9))
        s.commit()
        assert register_reviews.reviews_due(s, at(2026, 12, 1)) == []
        assert [d.id for d in register_reviews.reviews_due(s, at(2027, 1, 11))] == [entry_id]
        # Reviews never extend the 3-year limit.
        assert s.get(RegisterEntry, entry_id).expires_at == at(2029, 1, 5, 10)


def test_r6_register_review_every_6_months_is_recorded(app, client, staff):
    members = panel(staff)
    response = client.post("/api/v1/register/reviews", headers=members[0]["headers"],
                           json={"notes": "Panel of three checked all 12 entries for accuracy"})
    assert response.status_code == 201
    due = client.get("/api/v1/register/reviews/due", headers=members[0]["headers"]).get_json()
    assert due["last_register_review"] == response.get_json()["reviewed_at"]
    with app.app_context():
        next_due = register_reviews.register_review_due(db_session(), utcnow())
    assert timedelta(days=180) < next_due - utcnow() < timedelta(days=185)
    assert client.post("/api/v1/register/reviews", headers=members[0]["headers"], json={}).status_code == 400


def test_r6_expired_entry_no_longer_flags_at_ring_time(app, client, ring, team, staff):
    members = panel(staff)
    took_effect = utcnow() - timedelta(days=3 * 366)
    entry_id = _entry_at(app, members, took_effect)
    # Past expires_at, ring time stops flagging at once, even before the job has run.
    subscriber = app.extensions["events"].subscribe()
    sid, response = ring(CALLER)
    assert response.status_code == 200
    event = subscriber.get(timeout=2)
    assert event["call_sid"] == sid and event["marker"] is None
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])  # R9: the caller on their call
    flags = client.get(f"/api/v1/callers/{CALLER}", headers=team["handler"]["headers"]).get_json()
    assert flags["register"] is None
    result = register_deadlines(app.extensions["handover"], utcnow())
    assert result["expired"] == [entry_id]
    with app.app_context():
        entry = db_session().get(RegisterEntry, entry_id)
        assert entry.status == "expired" and entry.end_reason == "expiry"


def test_r6_entry_flags_until_its_expiry_and_partner_entries_last_one_year(app, client, ring, team, staff):
    members = panel(staff)
    _entry_at(app, members, utcnow() - timedelta(days=300), source="partner", marker=2)
    subscriber = app.extensions["events"].subscribe()
    ring(CALLER)
    assert subscriber.get(timeout=2)["marker"] == 2
    _entry_at(app, members, utcnow() - timedelta(days=370), caller="+447700900999", source="partner", marker=3)
    ring("+447700900999")
    assert subscriber.get(timeout=2)["marker"] is None  # partner entry, marker 3: at most 1 year (R6)
    _entry_at(app, members, utcnow() - timedelta(days=370), caller="+447700900888", source="partner", marker=1)
    ring("+447700900888")
    assert subscriber.get(timeout=2)["marker"] == 1  # marker 1 keeps the 3-year limit


def test_r8_appeal_due_in_20_working_days_and_dismissal_keeps_the_entry(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    appeal = client.post(f"/api/v1/register/entries/{entry_id}/appeals", headers=members[0]["headers"],
                         json={"received_at": "2025-12-22T10:00:00+00:00", "summary": "Says it was a one-off"})
    assert appeal.status_code == 201
    # 22 Dec 2025 + 20 working days, skipping Christmas Day, Boxing Day and New Year's Day.
    assert appeal.get_json()["due_at"] == "2026-01-22T17:00:00+00:00"
    outcome = client.post(f"/api/v1/register/appeals/{appeal.get_json()['id']}/outcome",
                          headers=members[1]["headers"], json={"outcome": "dismissed", "notes": "Upheld decision"})
    assert outcome.status_code == 200 and outcome.get_json()["outcome"] == "dismissed"
    view = client.get(f"/api/v1/register/entries/{entry_id}", headers=members[0]["headers"]).get_json()
    assert view["status"] == "in_force" and view["appeals"][0]["outcome"] == "dismissed"
    twice = client.post(f"/api/v1/register/appeals/{appeal.get_json()['id']}/outcome",
                        headers=members[1]["headers"], json={"outcome": "upheld", "notes": "x"})
    assert twice.status_code == 409


def test_r8_upheld_appeal_removes_the_entry(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    appeal_id = client.post(f"/api/v1/register/entries/{entry_id}/appeals", headers=members[0]["headers"],
                            json={}).get_json()["id"]
    upheld = client.post(f"/api/v1/register/appeals/{appeal_id}/outcome", headers=members[0]["headers"],
                         json={"outcome": "upheld", "notes": "Incident was misattributed"})
    assert upheld.status_code == 200
    view = client.get(f"/api/v1/register/entries/{entry_id}", headers=members[0]["headers"]).get_json()
    assert view["status"] == "removed" and view["end_reason"] == "appeal_upheld"
    flags = client.get(f"/api/v1/callers/{CALLER}", headers=team["manager"]["headers"]).get_json()
    assert flags["register"] is None
    future = client.post(f"/api/v1/register/entries/{entry_id}/appeals", headers=members[0]["headers"],
                         json={"received_at": "2099-01-01T00:00:00Z"})
    assert future.status_code == 409  # nothing left to appeal


def test_r6_review_can_remove_an_entry(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    removed = client.post(f"/api/v1/register/entries/{entry_id}/reviews", headers=members[2]["headers"],
                          json={"outcome": "remove", "notes": "No contact for 6 months"})
    assert removed.status_code == 201 and removed.get_json()["status"] == "removed"
    assert removed.get_json()["reviews"][0]["outcome"] == "remove"
