"""Deadline jobs with a controllable clock: overdue callbacks, no_answer retries, idle claims,
I5 24-hour escalation, I7 serious incidents. The periodic function is called with `now` moved on."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.models import CallbackTask, EmailDelivery, Incident
from tests.callback_helpers import mail_app, post, terminated_call, tick  # noqa: F401  (mail_app is a fixture)
from tests.conftest import Staff
from workers.deadlines import check_deadlines


@pytest.fixture
def people(mail_app):
    staff = Staff(mail_app)
    return {"manager": staff.add("manager", "line_manager", team="North", phone="+447700900001"),
            "handler": staff.add("handler", "call_handler", manager="manager", team="North"),
            "supervisor": staff.add("supervisor", "supervisor", team="North")}


def _deliveries(app, purpose):
    with app.app_context():
        return [(d.to_address, d.status) for d in
                db_session().scalars(select(EmailDelivery).where(EmailDelivery.purpose == purpose))]


def test_overdue_task_is_flagged_and_its_supervisor_told_once(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    assert tick(mail_app, utcnow() + timedelta(hours=23))["overdue"] == []
    later = utcnow() + timedelta(hours=25)
    assert tick(mail_app, later)["overdue"] == [t["callback_task_id"]]
    assert tick(mail_app, later + timedelta(minutes=1))["overdue"] == []
    assert _deliveries(mail_app, "overdue") == [("supervisor@example.org", "sent")]
    queue = client.get("/api/v1/callbacks", headers=people["manager"]["headers"]).get_json()["callbacks"]
    assert queue[0]["overdue"] is False  # the real clock: not yet; the flag is the supervisor's notice
    with mail_app.app_context():
        assert db_session().get(CallbackTask, t["callback_task_id"]).overdue_notified_at is not None


def test_i5_incident_not_picked_up_in_24_hours_goes_to_area_manager_and_union_reps(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    picked = terminated_call(mail_app, client, people["handler"], case_reference="PP-456")
    post(client, f"/callbacks/{picked['callback_task_id']}/claim", people["manager"])  # picked up
    assert tick(mail_app, utcnow() + timedelta(hours=23))["escalated_i5"] == []
    result = tick(mail_app, utcnow() + timedelta(hours=24, minutes=1))
    assert result["escalated_i5"] == [t["incident_id"]]
    assert sorted(_deliveries(mail_app, "escalation_i5")) == [("area.manager@example.org", "sent"),
                                                              ("union.hs.reps@example.org", "sent")]
    tick(mail_app, utcnow() + timedelta(hours=48))
    assert len(_deliveries(mail_app, "escalation_i5")) == 2  # never twice


def test_i5_window_is_configurable(mail_app, people):
    with mail_app.app_context():
        org_settings.save(db_session(), "incident_escalation_hours", 4)
        db_session().commit()
    t = terminated_call(mail_app, mail_app.test_client(), people["handler"])
    assert tick(mail_app, utcnow() + timedelta(hours=5))["escalated_i5"] == [t["incident_id"]]


def test_i7_serious_incident_goes_to_the_senior_officer_whose_police_decision_is_recorded(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"], immediate="threat_of_violence")
    plain = terminated_call(mail_app, client, people["handler"], case_reference="PP-9")
    result = tick(mail_app, utcnow())
    assert result["escalated_i7"] == [t["incident_id"]] and plain["incident_id"] not in result["escalated_i7"]
    assert _deliveries(mail_app, "serious_i7") == [("senior.officer@example.org", "sent")]
    refused = post(client, f"/incidents/{t['incident_id']}/police-decision", people["manager"],
                   {"decision": "police_informed", "note": "x"})
    assert refused.status_code == 403
    decided = post(client, f"/incidents/{t['incident_id']}/police-decision", people["supervisor"],
                   {"decision": "police_informed", "note": "Threat to attend the office; reported to police"})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["police_decision"] == "police_informed"
    assert _deliveries(mail_app, "serious_i7_decision") == [("grade7@example.org", "sent")]
    assert post(client, f"/incidents/{plain['incident_id']}/police-decision", people["supervisor"],
                {"decision": "police_not_needed", "note": "n"}).status_code == 409


def test_i7_withheld_caller_is_not_escalated_as_known(mail_app, people):
    client = mail_app.test_client()
    terminated_call(mail_app, client, people["handler"], from_="anonymous", immediate="threat_of_violence")
    assert tick(mail_app, utcnow())["escalated_i7"] == []


def test_no_answer_retry_comes_due_and_the_manager_is_reminded(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", people["manager"])
    assert post(client, f"/callbacks/{tid}/dial", people["manager"]).status_code == 202
    post(client, f"/callbacks/{tid}/outcome", people["manager"], {"outcome": "no_answer"})
    assert tick(mail_app, utcnow() + timedelta(minutes=119))["retries_due"] == []
    assert tick(mail_app, utcnow() + timedelta(minutes=121))["retries_due"] == [tid]
    assert _deliveries(mail_app, "retry_due") == [("manager@example.org", "sent")]
    post(client, f"/callbacks/{tid}/claim", people["manager"])
    assert post(client, f"/callbacks/{tid}/dial", people["manager"]).status_code == 202  # now allowed


def test_idle_claim_expires_on_the_clock(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    post(client, f"/callbacks/{t['callback_task_id']}/claim", people["manager"])
    assert tick(mail_app, utcnow() + timedelta(minutes=29))["claims_expired"] == 0
    assert tick(mail_app, utcnow() + timedelta(minutes=31))["claims_expired"] == 1
    with mail_app.app_context():
        task = db_session().get(CallbackTask, t["callback_task_id"])
        assert task.status == "open" and task.claimed_by_id is None
        assert db_session().get(Incident, t["incident_id"]).picked_up_at is not None


def test_periodic_check_is_registered_with_the_tick():
    from workers.schedules import periodic_jobs

    assert check_deadlines in periodic_jobs()
