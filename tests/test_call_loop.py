"""The core call-control loop end to end: ring, accept, warn (T1), terminate (T3-T5)."""
from xml.etree import ElementTree

from sqlalchemy import func, select

from app.db import db_session
from call_flows.models import CallbackTask, CaseNote, Incident, PlatformAction
from tests import twiml


def _accept(client, sid, who):
    return client.post(f"/api/v1/calls/{sid}/accept", headers=who["headers"])


def test_ring_answers_twiml_that_puts_the_caller_in_a_conference(ring):
    sid, response = ring()
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    conference = root.find("./Dial/Conference")
    assert conference is not None and conference.text == f"cg-{sid}"
    assert conference.get("endConferenceOnExit") == "false"


def test_warn_then_terminate_writes_note_incident_and_callback(app, client, ring, team):
    sid, _ = ring("07700 900123")
    assert _accept(client, sid, team["handler"]).status_code == 200
    warned = client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"],
                         json={"reason": "abuse", "detail": "shouting"})
    assert warned.status_code == 201, warned.get_json()
    assert warned.get_json()["platform_status"] == "played"
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                        json={"reason": "abuse", "case_reference": "PP-123",
                              "note": {"spoke_to": "Mr Smith", "query": "renewal"}})
    assert ended.status_code == 201, ended.get_json()
    body = ended.get_json()
    assert body["case_note_id"] and body["incident_id"] and body["callback_task_id"]
    again = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                        json={"reason": "abuse", "case_reference": "PP-123"})
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    with app.app_context():
        s = db_session()
        assert s.scalar(select(func.count()).select_from(CallbackTask)) == 1
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
        assert s.scalar(select(func.count()).select_from(CaseNote)) == 1
        heard = [a.payload["twiml"] for a in s.scalars(select(PlatformAction).where(PlatformAction.call_sid == sid)
                                                             .order_by(PlatformAction.id))]
    assert len(heard) == 2 and "will not continue" in heard[0] and twiml.has(heard[1], "Hangup")
    queue = client.get("/api/v1/callbacks", headers=team["manager"]["headers"]).get_json()
    assert [c["case_reference"] for c in queue["callbacks"]] == ["PP-123"]
    assert queue["callbacks"][0]["caller"] == "+447700900123"


def test_t3_terminate_without_warning_is_refused(client, ring, team):
    sid, _ = ring()
    _accept(client, sid, team["handler"])
    response = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                           json={"reason": "abuse"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "warning_required"


def test_t5_the_line_manager_is_emailed_once_about_a_new_callback(app, client, ring, team):
    from call_flows.models import EmailDelivery

    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
    for _ in range(2):  # the same termination repeated: one task, one e-mail
        client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                    json={"reason": "abuse", "case_reference": "T5-1"})
    with app.app_context():
        mails = db_session().scalars(select(EmailDelivery).where(EmailDelivery.purpose == "new_callback")).all()
        assert [(m.to_address, m.status) for m in mails] == [("manager@example.org", "sent")]
        assert "T5-1" in mails[0].subject
