"""The review panel's workflow (R3, R2, R7) and when an entry takes effect (R5), through the API."""
from datetime import timedelta
from xml.etree import ElementTree

from sqlalchemy import select

from app.db import db_session
from call_flows.clock import utcnow
from call_flows.models import AuditLog, RegisterEntry
from tests.register_helpers import CALLER, decide, in_force, incident_from_call, panel, propose


def _entry(app, entry_id):
    with app.app_context():
        return db_session().get(RegisterEntry, entry_id)


def test_r3_manager_proposes_from_an_incident_and_panel_sees_the_5_day_deadline(app, client, ring, team, staff):
    members = panel(staff)
    incident_id = incident_from_call(client, ring, team)
    before = utcnow()
    proposed = propose(client, team["manager"], incident_id)
    assert proposed.status_code == 201, proposed.get_json()
    body = proposed.get_json()
    assert body["status"] == "proposed"
    with app.app_context():
        entry = db_session().get(RegisterEntry, body["id"])
        assert entry.incident_id == incident_id and entry.reporting_service == "Passports North"
        assert timedelta(days=5) <= entry.meet_by - before < timedelta(days=5, minutes=1)
    listed = client.get("/api/v1/register/proposals", headers=members[0]["headers"]).get_json()["proposals"]
    assert [(p["id"], p["incident_id"], p["overdue"]) for p in listed] == [(body["id"], incident_id, False)]
    assert listed[0]["meet_by"] == body["meet_by"]


def test_r3_proposal_takes_the_number_that_called_and_refuses_an_unknown_incident(client, ring, team, staff):
    incident_id = incident_from_call(client, ring, team, "07700 900123")
    entry_id = propose(client, team["manager"], incident_id).get_json()["id"]
    members = panel(staff)
    view = client.get(f"/api/v1/register/entries/{entry_id}", headers=members[0]["headers"]).get_json()
    assert view["phones"] == [CALLER]
    missing = propose(client, team["manager"], 999999)
    assert missing.status_code == 404
    no_incident = client.post("/api/v1/register/proposals", headers=team["manager"]["headers"],
                              json={"name": "X", "summary": "y"})
    assert no_incident.status_code == 400 and "incident" in no_incident.get_json()["error"]["message"]


def test_r3_only_line_managers_propose_and_only_the_panel_decides(client, ring, team, staff):
    members = panel(staff)
    incident_id = incident_from_call(client, ring, team)
    assert propose(client, team["handler"], incident_id).status_code == 403
    entry_id = propose(client, team["manager"], incident_id).get_json()["id"]
    assert decide(client, team["manager"], entry_id, members[:3]).status_code == 403


def test_r3_a_quorum_of_2_is_refused(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    refused = decide(client, members[0], entry_id, members[:2])
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "quorum_not_met"
    assert _entry(app, entry_id).status == "proposed"
    # The same member twice is still two people.
    twice = decide(client, members[0], entry_id, [members[0], members[1], members[1]])
    assert twice.get_json()["error"]["code"] == "quorum_not_met"


def test_r3_the_chair_must_be_present_and_members_must_be_panel_members(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    no_chair = decide(client, members[0], entry_id, members[:3], chair=members[3])
    assert no_chair.get_json()["error"]["code"] == "quorum_not_met"
    outsider = decide(client, members[0], entry_id, [members[0], members[1], team["manager"]])
    assert outsider.get_json()["error"]["code"] == "quorum_not_met"
    assert _entry(app, entry_id).status == "proposed"


def test_r3_justification_and_r2_marker_are_required(client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    assert decide(client, members[0], entry_id, members[:3], justification="").status_code == 400
    assert decide(client, members[0], entry_id, members[:3], marker=4).status_code == 400
    no_marker = decide(client, members[0], entry_id, members[:3], marker=None)
    assert no_marker.status_code == 400 and "R2" in no_marker.get_json()["error"]["message"]


def test_r7_sharing_needs_who_and_a_documented_justification(client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    refused = decide(client, members[0], entry_id, members[:3], share=True, share_with="Housing contractor")
    assert refused.status_code == 400 and "share_justification" in refused.get_json()["error"]["message"]
    ok = decide(client, members[0], entry_id, members[:3], share=True, share_with="Housing contractor",
                share_justification="Assault risk to their visiting officers")
    assert ok.status_code == 201
    decision = ok.get_json()["decision"]
    assert decision["share"] is True and decision["share_with"] == "Housing contractor"
    assert decision["member_ids"] == [m["id"] for m in members[:3]] and decision["chair_id"] == members[0]["id"]


def test_r5_decided_entry_does_not_flag_until_the_letter_is_sent(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    decided = decide(client, members[0], entry_id, members[:3])
    assert decided.status_code == 201 and decided.get_json()["status"] == "awaiting_notice"
    flags = client.get(f"/api/v1/callers/{CALLER}", headers=team["handler"]["headers"]).get_json()
    assert flags["register"] is None
    sent = client.post(f"/api/v1/register/entries/{entry_id}/letter/sent", headers=members[0]["headers"], json={})
    assert sent.status_code == 200 and sent.get_json()["status"] == "in_force"
    assert sent.get_json()["notified"] is True
    entry = _entry(app, entry_id)
    assert entry.expires_at.year == entry.added_on.year + 3  # R6
    flags = client.get(f"/api/v1/callers/{CALLER}", headers=team["handler"]["headers"]).get_json()
    assert flags["register"] == {"marker": 2, "precautions": "Two officers; appointment only"}


def test_r3_a_decided_entry_cannot_be_decided_again_and_reject_closes_it(client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    rejected = decide(client, members[0], entry_id, members[:3], outcome="reject", marker=None, precautions=None)
    assert rejected.status_code == 201 and rejected.get_json()["status"] == "rejected"
    again = decide(client, members[0], entry_id, members[:3])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_decided"


def test_r4_any_of_the_customers_numbers_flags_at_ring_time(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members, phones=["07700 900123", "+44 20 7946 0018"])
    customer_id = client.get(f"/api/v1/register/entries/{entry_id}", headers=members[0]["headers"]).get_json()[
        "customer_id"]
    added = client.post(f"/api/v1/register/customers/{customer_id}/phones", headers=team["manager"]["headers"],
                        json={"phone": "0161 496 0000"})
    assert added.status_code == 201 and added.get_json()["phone"] == "+441614960000"
    subscriber = app.extensions["events"].subscribe()
    for number in ("+442079460018", "01614960000"):
        sid, response = ring(number)
        assert response.status_code == 200
        root = ElementTree.fromstring(response.data)
        assert root.find("./Dial/Conference") is not None  # R10/C2/R1: flags inform, never block
        event = subscriber.get(timeout=2)
        assert event["kind"] == "call_ringing" and event["call_sid"] == sid and event["marker"] == 2


def test_r4_a_number_belonging_to_another_customer_is_refused(client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    # A proposal naming a number already on the register is the same customer: refused as a duplicate.
    other = incident_from_call(client, ring, team, "+447700900555")
    dup = propose(client, team["manager"], other, name="Alex Example", phones=["+447700900555", CALLER])
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "already_proposed"
    second = propose(client, team["manager"], other, name="Sam Other", phones=["+447700900555"])
    assert second.status_code == 201
    clash = propose(client, team["manager"], other, name="Sam Other", phones=["+447700900555", CALLER])
    assert clash.status_code == 409 and clash.get_json()["error"]["code"] == "phone_taken"
    customer_id = client.get(f"/api/v1/register/entries/{entry_id}", headers=members[0]["headers"]).get_json()[
        "customer_id"]
    taken = client.post(f"/api/v1/register/customers/{customer_id}/phones", headers=team["manager"]["headers"],
                        json={"phone": "07700 900555"})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "phone_taken"
    bad = client.post(f"/api/v1/register/customers/{customer_id}/phones", headers=team["manager"]["headers"],
                      json={"phone": "not a number"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_phone"


def test_r9_handler_sees_marker_and_precautions_and_nothing_else(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    handler_view = client.get(f"/api/v1/callers/{CALLER}", headers=team["handler"]["headers"]).get_json()
    assert handler_view["register"] == {"marker": 2, "precautions": "Two officers; appointment only"}
    text = str(handler_view)
    for secret in ("Threat of harm", "Pat Chair", "High Street", "justification", "summary"):
        assert secret not in text
    assert client.get(f"/api/v1/register/entries/{entry_id}", headers=team["handler"]["headers"]).status_code == 403
    manager_view = client.get(f"/api/v1/register/entries/{entry_id}", headers=team["manager"]["headers"]).get_json()
    assert "decision" not in manager_view and "summary" not in manager_view  # minutes stay with the panel
    panel_view = client.get(f"/api/v1/register/entries/{entry_id}", headers=members[1]["headers"]).get_json()
    assert panel_view["decision"]["justification"].startswith("Threat of harm")


def test_r9_each_view_of_an_entry_is_audited(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    client.get(f"/api/v1/callers/{CALLER}", headers=team["handler"]["headers"])
    client.get(f"/api/v1/register/entries/{entry_id}", headers=team["manager"]["headers"])
    client.get(f"/api/v1/register/entries/{entry_id}", headers=members[1]["headers"])
    with app.app_context():
        rows = db_session().execute(select(AuditLog.actor_id, AuditLog.action, AuditLog.detail)
                                    .where(AuditLog.entity == "register_entry", AuditLog.entity_id == entry_id)
                                    .order_by(AuditLog.id)).all()
    actions = [(actor, action) for actor, action, _ in rows]
    assert (team["manager"]["id"], "create") in actions
    assert (members[0]["id"], "decide") in actions and (members[0]["id"], "letter_sent") in actions
    views = [actor for actor, action, _ in rows if action == "view"]
    assert views[-3:] == [team["handler"]["id"], team["manager"]["id"], members[1]["id"]]
