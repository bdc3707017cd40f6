"""R5: the customer's letter from an editable template, due in 2 working days (England bank holidays),
or a documented exemption; the entry takes effect only then."""
import json

import pytest
from sqlalchemy import select

from app.db import db_session
from call_flows.register import letters as register_letters, panel as register_panel
from call_flows import settings as org_settings
from call_flows.errors import InvalidInput
from call_flows.models import RegisterEntry, RegisterLetter, Setting, User
from call_flows.working_days import add_working_days
from tests.page_helpers import sign_in
from tests.register_helpers import at, decide, incident_from_call, panel, propose


def _decided(client, ring, team, members, **extra):
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team), **extra).get_json()["id"]
    assert decide(client, members[0], entry_id, members[:3]).status_code == 201
    return entry_id


def test_r5_working_days_skip_weekends_and_england_bank_holidays():
    # Thursday 24 Dec 2026: Christmas (Fri) and Boxing Day substitute (Mon 28) are not working days.
    assert add_working_days(at(2026, 12, 24, 10), 2) == at(2026, 12, 30, 17)
    # Friday: Saturday and Sunday do not count.
    assert add_working_days(at(2026, 11, 27, 10), 2) == at(2026, 12, 1, 17)
    # Thursday before Easter 2027: Good Friday and Easter Monday are bank holidays in England.
    assert add_working_days(at(2027, 3, 25, 9), 2) == at(2027, 3, 31, 16)  # 17:00 BST
    # R8: 20 working days from Monday 4 Jan 2027 (no holidays) is Monday 1 Feb.
    assert add_working_days(at(2027, 1, 4, 9), 20) == at(2027, 2, 1, 17)


def test_r5_letter_due_in_2_working_days_of_the_decision(app, staff):
    members = panel(staff)
    with app.app_context():
        s = db_session()
        manager = User(username="m2", role="line_manager", active=True)
        s.add(manager)
        s.flush()
        settings = org_settings.load(s, fresh=True)
        entry = register_panel.propose(s, manager, register_panel.Proposal(
            incident_id=None, name="Partner Customer", summary="Reported by the housing partner",
            phones=["+447700900777"], source="partner"), at(2026, 12, 23, 15), settings)
        decision = register_panel.Decision(outcome="add", member_ids=[m["id"] for m in members[:3]],
                                           chair_id=members[0]["id"], justification="Credible risk", marker=3,
                                           precautions="Written contact only")
        register_panel.decide(s, entry.id, decision, s.get(User, members[0]["id"]), at(2026, 12, 24, 10), settings)
        letter = s.scalar(select(RegisterLetter).where(RegisterLetter.entry_id == entry.id))
        assert letter.due_at == at(2026, 12, 30, 17)
        register_letters.record_sent(s, entry.id, s.get(User, members[0]["id"]), at(2026, 12, 29, 9), settings)
        # R6: a partner's entry (marker 3) lasts at most 1 year from when it took effect.
        assert entry.status == "in_force" and entry.expires_at == at(2027, 12, 29, 9)
        s.commit()


def test_r5_letter_has_every_element_and_is_kept_on_file_when_sent(client, ring, team, staff):
    members = panel(staff)
    entry_id = _decided(client, ring, team, members)
    letter = client.get(f"/api/v1/register/entries/{entry_id}/letter", headers=members[0]["headers"]).get_json()
    body = letter["body"]
    assert "Threatened the adviser" in body  # the incident
    assert "The reasons for this decision: Threat of harm" in body  # action and reasons
    assert "right to appeal" in body and "20 working days" in body  # appeal
    assert "Two officers; appointment only" in body  # future contact
    assert "new issues" in body  # how to contact about new issues
    assert "will remain on the Register until" in body and "reviewed by" in body  # duration and review
    assert "not shared with other organisations" in body  # sharing
    assert body.rstrip().endswith("Pat Chair\nCorporate Director")  # signed by the most senior member
    assert letter["print_url"] == f"/register/entries/{entry_id}/letter"
    assert letter["sent_at"] is None
    client.post(f"/api/v1/register/entries/{entry_id}/letter/sent", headers=members[0]["headers"], json={})
    kept = client.get(f"/api/v1/register/entries/{entry_id}/letter", headers=members[0]["headers"]).get_json()
    assert kept["sent_at"] and "Pat Chair" in kept["body"]


def test_r5_template_is_editable_but_cannot_drop_an_element(app, client, staff):
    members = panel(staff, 1)
    current = client.get("/api/v1/register/letter-template", headers=members[0]["headers"]).get_json()
    assert set(current["required_placeholders"].values()) <= set(
        p for p in register_letters.REQUIRED.values() if "{{ " + p + " }}" in current["template"])
    dropped = current["template"].replace("{{ sharing }}", "")
    refused = client.put("/api/v1/register/letter-template", headers=members[0]["headers"],
                         json={"template": dropped})
    assert refused.status_code == 400 and "{{ sharing }}" in refused.get_json()["error"]["message"]
    unknown = client.put("/api/v1/register/letter-template", headers=members[0]["headers"],
                         json={"template": current["template"] + "\n{{ favourite_colour }}"})
    assert unknown.status_code == 400
    edited = "Harborough District Council\n\n" + current["template"]
    saved = client.put("/api/v1/register/letter-template", headers=members[0]["headers"], json={"template": edited})
    assert saved.status_code == 200
    assert client.get("/api/v1/register/letter-template",
                      headers=members[0]["headers"]).get_json()["template"].startswith("Harborough District Council")


def test_r5_exemption_must_be_one_of_the_two_reasons_and_justified(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = _decided(client, ring, team, members)
    url = f"/api/v1/register/entries/{entry_id}/letter/exemption"
    assert client.post(url, headers=members[0]["headers"], json={"reason": "too_busy",
                                                                 "justification": "x"}).status_code == 400
    assert client.post(url, headers=members[0]["headers"], json={"reason": "address_unknown",
                                                                 "justification": ""}).status_code == 400
    ok = client.post(url, headers=members[0]["headers"],
                     json={"reason": "risk_of_violence", "justification": "Told police he would retaliate"})
    assert ok.status_code == 200
    entry = ok.get_json()
    assert entry["status"] == "in_force" and entry["notified"] is False
    assert entry["letter"]["exemption"] == "risk_of_violence"
    again = client.post(f"/api/v1/register/entries/{entry_id}/letter/sent", headers=members[0]["headers"], json={})
    assert again.status_code == 409


def test_r5_no_letter_without_a_decision_to_add(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    response = client.post(f"/api/v1/register/entries/{entry_id}/letter/sent", headers=members[0]["headers"],
                           json={})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "no_letter"
    with app.app_context():
        assert db_session().get(RegisterEntry, entry_id).status == "proposed"


def test_r5_printable_letter_escapes_the_customers_details(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = _decided(client, ring, team, members, name="<script>alert(1)</script> Smith")
    sign_in(client.application, client, members[0]["username"])  # a real sign-in: sessions are server-side (10.8)
    page = client.get(f"/register/entries/{entry_id}/letter")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Smith" in html
    assert "@media print" in client.get("/static/register.css").get_data(as_text=True)


def test_r5_validate_template_service_refuses_missing_signatory():
    text = register_letters.DEFAULT_TEMPLATE.replace("{{ signatory_name }}", "")
    try:
        register_letters.validate_template(text)
    except InvalidInput as exc:
        assert "signed by the most senior panel member" in exc.message
    else:
        raise AssertionError("a template without the signatory was accepted")
    assert register_letters.validate_template(register_letters.DEFAULT_TEMPLATE)


def test_r5_a_template_saved_through_the_generic_settings_cannot_drop_an_element(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = _decided(client, ring, team, members)
    with app.app_context():
        s = db_session()
        with pytest.raises(InvalidInput, match="must keep every R5 element"):
            org_settings.save(s, "register_letter_template", "Dear {{ customer_name }}, you are on the register.")
        s.add(Setting(key="register_letter_template", value=json.dumps("Dear {customer_name}, you are on it.")))
        s.commit()  # as stored before the settings had bounds
    org_settings.invalidate()
    body = client.get(f"/api/v1/register/entries/{entry_id}/letter", headers=members[0]["headers"]).get_json()["body"]
    assert "right to appeal" in body and "Pat Chair" in body
