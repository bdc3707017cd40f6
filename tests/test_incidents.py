"""Incident records (I1-I4, I6): fill in, complete and distribute, acknowledge in one's own session."""
from email import message_from_bytes

import pytest
from sqlalchemy import select

from app.db import db_session
from call_flows.models import Incident
from call_flows.models.incidents_extra import IncidentNotDeletable
from tests.callback_helpers import mail_app, post, terminated_call  # noqa: F401  (mail_app is a fixture)
from tests.conftest import Staff
from tests.page_helpers import sign_in

FIELDS = {"incident_date": "2026-11-25", "incident_time": "10:40", "location": "Contact centre, Durham",
          "details": "Caller shouted and swore after a warning", "action_taken": "Call ended; EAP details given",
          "staff_involved": "handler", "reported_to": "line manager", "riddor_reportable": False,
          "welfare_spoke_with_staff": True, "welfare_support_offered": True, "welfare_time_given": True}


@pytest.fixture
def people(mail_app):
    staff = Staff(mail_app)
    return {"manager": staff.add("manager", "line_manager", team="North", phone="+447700900001"),
            "handler": staff.add("handler", "call_handler", manager="manager", team="North"),
            "other": staff.add("other", "call_handler", team="South")}


def test_i1_i3_i4_complete_distributes_to_the_configured_recipients_once(mail_app, people, tmp_path):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    iid = t["incident_id"]
    refused = post(client, f"/incidents/{iid}/complete", people["manager"])
    assert refused.status_code == 400 and "Location" in refused.get_json()["error"]["message"]
    saved = client.put(f"/api/v1/incidents/{iid}", headers=people["manager"]["headers"],
                       json={**FIELDS, "security_breach": True, "riddor_reportable": True})
    assert saved.status_code == 200 and saved.get_json()["details"]["riddor_reportable"] is True
    done = post(client, f"/incidents/{iid}/complete", people["manager"])
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "completed"
    sent = {d["recipient"]: d for d in body["deliveries"]}
    assert set(sent) == {"hr_service_centre", "equality_diversity", "union_hs_reps", "security_desk"}
    assert all(d["status"] == "sent" for d in sent.values())
    again = post(client, f"/incidents/{iid}/complete", people["manager"])
    assert len(again.get_json()["deliveries"]) == 4
    files = sorted((tmp_path / "outbox").glob("incident-*.eml"))
    assert len(files) == 4
    message = message_from_bytes(files[0].read_bytes())
    assert message["Subject"].startswith(f"Incident record {iid}")
    assert "RIDDOR-reportable: yes" in message.get_payload()
    changed = client.put(f"/api/v1/incidents/{iid}", headers=people["manager"]["headers"], json={"comments": "x"})
    assert changed.status_code == 409


def test_i4_security_desk_only_when_there_was_a_breach(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    client.put(f"/api/v1/incidents/{t['incident_id']}", headers=people["manager"]["headers"], json=FIELDS)
    body = post(client, f"/incidents/{t['incident_id']}/complete", people["manager"]).get_json()
    assert "security_desk" not in {d["recipient"] for d in body["deliveries"]}


def test_i4_a_failed_email_is_retried_and_sent_once(mail_app, people, tmp_path):
    from call_flows.jobs import attempts, outbox
    from call_flows.unit_of_work import FakeUnitOfWork
    from call_flows.clock import utcnow
    from datetime import timedelta

    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    client.put(f"/api/v1/incidents/{t['incident_id']}", headers=people["manager"]["headers"], json=FIELDS)
    mailer = mail_app.extensions["mailer"]
    real_send, calls = mailer.send, []

    def flaky(key, *args):
        if not key.startswith("incident-"):
            return real_send(key, *args)
        calls.append(key)
        if len(calls) <= 3:
            raise OSError("SMTP server unreachable")
        return real_send(key, *args)

    mailer.send = flaky
    body = post(client, f"/incidents/{t['incident_id']}/complete", people["manager"]).get_json()
    assert [d["status"] for d in body["deliveries"]] == ["pending"] * 3
    assert "SMTP server unreachable" in body["deliveries"][0]["last_error"]
    later = utcnow() + timedelta(hours=1)  # the retry comes due: run what a worker would run
    session = mail_app.extensions["sessionmaker"]()
    for job_id in outbox.due_for_redispatch(session, later):
        attempts.run(FakeUnitOfWork(session), job_id, mail_app.extensions["job_context"], now=later)
    for job_id in outbox.due_for_redispatch(session, later):  # nothing left: each was sent once
        attempts.run(FakeUnitOfWork(session), job_id, mail_app.extensions["job_context"], now=later)
    session.close()
    body = client.get(f"/api/v1/incidents/{t['incident_id']}", headers=people["manager"]["headers"]).get_json()
    assert [d["status"] for d in body["deliveries"]] == ["sent"] * 3
    assert len(list((tmp_path / "outbox").glob("incident-*.eml"))) == 3 and len(calls) == 6


def test_i3_only_the_staff_member_acknowledges_in_their_own_session(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    iid = t["incident_id"]
    client.put(f"/api/v1/incidents/{iid}", headers=people["manager"]["headers"], json=FIELDS)
    assert post(client, f"/incidents/{iid}/complete", people["manager"]).status_code == 200
    listed = client.get("/api/v1/incidents", headers=people["handler"]["headers"]).get_json()
    assert listed["to_acknowledge"] == [iid]
    assert post(client, f"/incidents/{iid}/acknowledge", people["manager"]).status_code == 403
    assert post(client, f"/incidents/{iid}/acknowledge", people["other"]).status_code == 404
    signed = post(client, f"/incidents/{iid}/acknowledge", people["handler"])
    assert signed.status_code == 200 and signed.get_json()["acknowledged_at"]
    assert client.get("/api/v1/incidents", headers=people["handler"]["headers"]).get_json()["to_acknowledge"] == []


def test_i2_handler_may_fill_in_but_only_the_manager_completes(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    saved = client.put(f"/api/v1/incidents/{t['incident_id']}", headers=people["handler"]["headers"], json=FIELDS)
    assert saved.status_code == 200
    assert post(client, f"/incidents/{t['incident_id']}/complete", people["handler"]).status_code == 403
    bad = client.put(f"/api/v1/incidents/{t['incident_id']}", headers=people["handler"]["headers"],
                     json={"riddor_reportable": "maybe"})
    assert bad.status_code == 400


def test_i6_incident_records_cannot_be_deleted(mail_app, people):
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    response = client.delete(f"/api/v1/incidents/{t['incident_id']}", headers=people["manager"]["headers"])
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "incident_not_deletable"
    with mail_app.app_context():
        session = db_session()
        incident = session.get(Incident, t["incident_id"])
        session.delete(incident)
        with pytest.raises(IncidentNotDeletable):
            session.flush()
        session.rollback()
        assert session.scalar(select(Incident.id).where(Incident.id == t["incident_id"])) == t["incident_id"]


def test_i3_a_blank_open_record_cannot_be_signed_409_through_api_and_page(mail_app, people):
    """I3: the staff member signs the completed record; a blank or still-open one is a 409."""
    client = mail_app.test_client()
    t = terminated_call(mail_app, client, people["handler"])
    iid = t["incident_id"]
    assert client.get("/api/v1/incidents", headers=people["handler"]["headers"]).get_json()["to_acknowledge"] == []
    refused = post(client, f"/incidents/{iid}/acknowledge", people["handler"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "incident_not_completed"
    assert "completed" in refused.get_json()["error"]["message"]
    client.put(f"/api/v1/incidents/{iid}", headers=people["handler"]["headers"], json={"details": "Shouted"})
    assert post(client, f"/incidents/{iid}/acknowledge", people["handler"]).status_code == 409  # filled, still open

    sign_in(mail_app, client, "handler")
    page = client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert "I have read this record: sign it" not in page and "once your line manager" in page
    refused_page = client.post(f"/incidents/{iid}/acknowledge")
    assert refused_page.status_code == 409 and "once your line manager has completed it" in refused_page.get_data(
        as_text=True)
    with mail_app.app_context():
        assert db_session().get(Incident, iid).acknowledged_at is None

    client.put(f"/api/v1/incidents/{iid}", headers=people["manager"]["headers"], json=FIELDS)
    assert post(client, f"/incidents/{iid}/complete", people["manager"]).status_code == 200
    assert "I have read this record: sign it" in client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert client.post(f"/incidents/{iid}/acknowledge").status_code == 302
    with mail_app.app_context():
        assert db_session().get(Incident, iid).acknowledged_at is not None


def test_i2_a_refused_completion_keeps_what_the_manager_typed(mail_app, people):
    """A form never silently discards what a person entered: completing an unfinished record on the
    page saves the fields typed and says what is missing."""
    client = mail_app.test_client()
    iid = terminated_call(mail_app, client, people["handler"])["incident_id"]
    sign_in(mail_app, client, "manager")
    refused = client.post(f"/incidents/{iid}/complete", data={"details": "Caller swore", "location": "Durham"})
    assert refused.status_code == 400 and "to complete the record, fill in" in refused.get_data(as_text=True)
    with mail_app.app_context():
        incident = db_session().get(Incident, iid)
        assert incident.status == "open"
        assert incident.details["details"] == "Caller swore" and incident.details["location"] == "Durham"


def test_i1_the_record_page_saves_ticked_boxes_and_an_unticked_box_is_no(mail_app, people):
    client = mail_app.test_client()
    iid = terminated_call(mail_app, client, people["handler"])["incident_id"]
    sign_in(mail_app, client, "manager")
    assert client.post(f"/incidents/{iid}", data={"details": "Shouting", "riddor_reportable": "yes"}).status_code == 302
    with mail_app.app_context():
        assert db_session().get(Incident, iid).details["riddor_reportable"] is True
    assert client.post(f"/incidents/{iid}", data={"details": "Shouting, then swore"}).status_code == 302
    with mail_app.app_context():
        details = db_session().get(Incident, iid).details
    assert details["details"] == "Shouting, then swore" and details["riddor_reportable"] is False
    assert details["location"] is None  # a field left out of the form clears, as a blank one does
