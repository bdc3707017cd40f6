"""The register's pages for the panel and managers (server side; the browser test drives the same path)."""
from sqlalchemy import select

from app.db import db_session
from call_flows.models import Customer, RegisterEntry
from tests.page_helpers import sign_in
from tests.register_helpers import CALLER, in_force, incident_from_call, panel, propose


def _sign_in(client, who):
    sign_in(client.application, client, who["username"])  # a real sign-in: sessions are server-side (10.8)


def test_manager_proposes_through_the_form_and_panel_sees_it_with_its_deadline(app, client, ring, team, staff):
    members = panel(staff)
    incident_id = incident_from_call(client, ring, team)
    _sign_in(client, team["manager"])
    assert client.get(f"/register/propose?incident={incident_id}").status_code == 200
    bad = client.post("/register/propose", data={"incident_id": "abc", "name": "X", "summary": "y"})
    assert bad.status_code == 400 and "must be a number" in bad.get_data(as_text=True)
    done = client.post("/register/propose", data={"incident_id": str(incident_id), "name": "Kim <b>Bold</b>",
                                                  "summary": "Shouted threats", "phones": "07700 900123\n"})
    assert done.status_code == 302
    _sign_in(client, members[0])
    home = client.get("/register").get_data(as_text=True)
    assert "Proposals awaiting the panel" in home and "Kim &lt;b&gt;Bold&lt;/b&gt;" in home
    assert "Panel must meet by" in home


def test_panel_member_decides_on_the_entry_page_and_a_quorum_of_2_is_refused(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = propose(client, team["manager"], incident_from_call(client, ring, team)).get_json()["id"]
    _sign_in(client, members[0])
    page = client.get(f"/register/entries/{entry_id}").get_data(as_text=True)
    assert "Record the panel's decision" in page and "panel3" in page
    form = {"member_ids": [str(members[0]["id"]), str(members[1]["id"])], "chair_id": str(members[0]["id"]),
            "outcome": "add", "justification": "Threats recorded", "marker": "1", "precautions": "Two officers",
            "share": "no"}
    refused = client.post(f"/register/entries/{entry_id}/decision", data=form, follow_redirects=True)
    assert "at least 3 members present" in refused.get_data(as_text=True)
    form["member_ids"].append(str(members[2]["id"]))
    decided = client.post(f"/register/entries/{entry_id}/decision", data=form, follow_redirects=True)
    text = decided.get_data(as_text=True)
    assert "awaiting notice" in text and "Open the printable letter" in text
    letter = client.get(f"/register/entries/{entry_id}/letter").get_data(as_text=True)
    assert "Two officers" in letter and "Print" in letter
    not_a_day = client.post(f"/register/entries/{entry_id}/letter/sent", data={"sent_on": "31/12/2026"},
                            follow_redirects=True)
    assert "sent on must be a date" in not_a_day.get_data(as_text=True)
    sent = client.post(f"/register/entries/{entry_id}/letter/sent", data={"sent_on": ""}, follow_redirects=True)
    assert "now in force" in sent.get_data(as_text=True)
    with app.app_context():
        assert db_session().get(RegisterEntry, entry_id).status == "in_force"


def test_manager_records_concern_then_restriction_on_the_customer_page(app, client, ring, team, staff):
    members = panel(staff)
    in_force(client, ring, team, members)
    with app.app_context():
        customer_id = db_session().scalar(select(Customer.id))
    _sign_in(client, team["manager"])
    page = client.get(f"/register/customers/{customer_id}").get_data(as_text=True)
    assert CALLER in page and "a restriction needs this first" in page
    refused = client.post(f"/register/customers/{customer_id}/restrictions", data={"kind": "written_only"},
                          follow_redirects=True)
    assert "before restricting contact (C1)" in refused.get_data(as_text=True)
    client.post(f"/register/customers/{customer_id}/concerns", data={"channel": "letter", "note": "Told"})
    ok = client.post(f"/register/customers/{customer_id}/restrictions",
                     data={"kind": "set_hours", "days": ["0", "2"], "start": "10:00", "end": "12:00"},
                     follow_redirects=True)
    assert "Restriction recorded" in ok.get_data(as_text=True)
    added = client.post(f"/register/customers/{customer_id}/phones", data={"phone": "0161 496 0000"},
                        follow_redirects=True)
    assert "+441614960000" in added.get_data(as_text=True)


def test_register_pages_are_role_checked(client, team, staff):
    members = panel(staff, 1)
    _sign_in(client, team["handler"])
    assert client.get("/register").status_code == 403
    assert client.get("/register/signals").status_code == 403
    _sign_in(client, team["manager"])
    assert client.get("/register/signals").status_code == 200
    assert client.get("/register/letter-template").status_code == 403
    _sign_in(client, members[0])
    template = client.get("/register/letter-template").get_data(as_text=True)
    assert "{{ signatory_name }}" in template
    refused = client.post("/register/letter-template", data={"template": "Dear {customer_name}"})
    assert refused.status_code == 400 and "missing" in refused.get_data(as_text=True)
