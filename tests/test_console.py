"""The handler's console (issue 6; R1, R9, T1-T4) and recovery time after a termination."""
from datetime import timedelta

from sqlalchemy import select

from app.db import db_session
from call_flows.calls import console, recovery
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.models import AuditLog, EmailDelivery, RecoveryPeriod, User
from app.api.shapes import console_json
from tests.page_helpers import HOSTILE, accept, add_marker, sign_in


def state(app, username, now=None):
    with app.app_context():
        session = db_session()
        user = session.query(User).filter_by(username=username).one()
        return console_json(console.state(session, user, now or utcnow(), org_settings.load(session)))


def test_r1_handler_sees_a_ringing_callers_marker_before_taking_the_call(app, ring, team):
    add_marker(app, "+447700900555", marker=2, precautions="Appointment only")
    sid, _ = ring("+447700900555")
    data = state(app, "handler")
    assert data["call"] is None
    assert [c["call_sid"] for c in data["ringing"]] == [sid]
    assert data["ringing"][0]["marker"] == 2 and data["ringing"][0]["caller"].endswith("0555")


def test_r9_connected_call_shows_precautions_warnings_need_and_t4_prefill(app, client, ring, team):
    add_marker(app, "+447700900555", marker=1, precautions="Two officers")
    sid, _ = ring("+447700900555")
    accept(client, sid, team["handler"])
    h = team["handler"]["headers"]
    client.post(f"/api/v1/calls/{sid}/warnings", headers=h, json={"reason": "abuse", "detail": "swore at me"})
    client.post(f"/api/v1/calls/{sid}/need", headers=h, json={"need": "seemed very anxious"})
    data = state(app, "handler")
    call = data["call"]
    assert call["call_sid"] == sid and call["caller_full"] == "+447700900555"
    assert call["marker"] == 1 and call["precautions"] == "Two officers"
    assert call["needs_note"] == "seemed very anxious"
    assert [(w["reason"], w["platform_status"]) for w in call["warnings"]] == [("abuse", "played")]
    note = call["note"]
    assert note["case_reference"] == f"CALL-{sid}" and note["customer_said_or_did"] == "swore at me"
    assert "would not continue" in note["told_customer"] and data["ringing"] == []
    assert data["messages"]["warning"] == org_settings.DEFAULTS["warning_message"]


def test_r9_the_console_logs_a_view_of_the_register_entry_once_per_call(app, client, ring, team):
    add_marker(app, "+447700900555", marker=1)
    sid, _ = ring("+447700900555")
    accept(client, sid, team["handler"])
    sign_in(app, client, "handler")
    for _ in range(3):
        assert client.get("/console/state").get_json()["call"]["precautions"] == "Two officers"
    with app.app_context():
        views = db_session().scalars(select(AuditLog).where(AuditLog.entity == "register_entry")).all()
        assert [(v.actor_id, v.action, v.detail["via"]) for v in views] == [(team["handler"]["id"], "view", "console")]


def test_t3_terminated_call_stays_on_the_console_briefly_for_feedback(app, client, ring, team):
    sid, _ = ring()
    accept(client, sid, team["handler"])
    h = team["handler"]["headers"]
    client.post(f"/api/v1/calls/{sid}/warnings", headers=h, json={"reason": "abuse"})
    client.post(f"/api/v1/calls/{sid}/termination", headers=h, json={"reason": "abuse"})
    now = utcnow()
    assert state(app, "handler", now)["call"]["termination"]["platform_status"] == "played"
    assert state(app, "handler", now + timedelta(minutes=11))["call"] is None


def test_recovery_period_is_offered_after_a_termination_and_the_team_lead_alerted(app, client, ring, team):
    events = app.extensions["events"].subscribe()
    sid, _ = ring()
    accept(client, sid, team["handler"])
    h = team["handler"]["headers"]
    client.post(f"/api/v1/calls/{sid}/warnings", headers=h, json={"reason": "abuse"})
    client.post(f"/api/v1/calls/{sid}/termination", headers=h, json={"reason": "abuse"})
    with app.app_context():
        period = db_session().scalar(select(RecoveryPeriod))
        assert period.user_id == team["handler"]["id"] and period.lead_alerted_at is not None
        minutes = (period.ends_at - period.started_at).total_seconds() / 60
        mail = db_session().scalar(select(EmailDelivery).where(EmailDelivery.purpose == "team_lead_alert"))
        assert mail.to_address == "manager@example.org" and "check on your colleague" in mail.subject
    assert minutes == org_settings.DEFAULTS["recovery_minutes"]
    kinds = []
    while not events.empty():
        kinds.append(events.get_nowait())
    alert = next(e for e in kinds if e["kind"] == "team_lead_alert")
    assert alert["lead"] == "manager" and alert["username"] == "handler"
    assert {"warning_played", "termination_played", "call_terminated"} <= {e["kind"] for e in kinds}
    assert state(app, "handler")["recovery"] is not None


def test_recovery_time_is_configurable_and_can_be_ended_early(app, client, ring, team):
    with app.app_context():
        org_settings.save(db_session(), "recovery_minutes", 12)
        db_session().commit()
    sid, _ = ring()
    accept(client, sid, team["handler"])
    h = team["handler"]["headers"]
    client.post(f"/api/v1/calls/{sid}/termination", headers=h,
                json={"reason": "threats", "immediate_reason": "threat_of_violence"})
    now = utcnow()
    with app.app_context():
        session = db_session()
        period = recovery.current(session, team["handler"]["id"], now)
        assert round((period.ends_at - now).total_seconds() / 60) == 12
        assert recovery.current(session, team["handler"]["id"], now + timedelta(minutes=13)) is None
    sign_in(app, client, "handler")
    assert client.post("/console/recovery/end").get_json() == {"ended": True}
    assert state(app, "handler")["recovery"] is None


def test_console_pages_are_for_call_handlers(app, client, team):
    assert client.get("/console").status_code == 302
    sign_in(app, client, "supervisor")
    assert client.get("/console").status_code == 403
    assert client.get("/console/state").status_code == 403


def test_console_page_escapes_hostile_messages_and_state_keeps_text_as_data(app, client, ring, team):
    with app.app_context():
        org_settings.save(db_session(), "warning_message", HOSTILE)
        db_session().commit()
    sid, _ = ring()
    accept(client, sid, team["handler"])
    client.post(f"/api/v1/calls/{sid}/need", headers=team["handler"]["headers"], json={"need": HOSTILE})
    sign_in(app, client, "handler")
    page = client.get("/console").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert client.get("/console/state").get_json()["call"]["needs_note"] == HOSTILE
