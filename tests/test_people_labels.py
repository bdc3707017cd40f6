"""Issue 14.3 (display names wherever people are named), 14.6 (labels, not codes, on pages and in
emails) and 14.8 (the rough edges: look-alike callers on the board, incident date and time, imported
entries, no answer without a dial, form addresses opened in the browser)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.db import db_session
from call_flows.calls import board
from call_flows.incidents import records as incident_records
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.labels import VOCABULARIES, label
from call_flows.models import Customer, Incident, RegisterEntry, User
from app.api.shapes import board_json
from tests.callback_helpers import post, terminated_call
from tests.page_helpers import sign_in


def _name(app, username, display_name):
    with app.app_context():
        session = db_session()
        session.scalar(select(User).where(User.username == username)).display_name = display_name
        session.commit()


def _snapshot(app, username):
    with app.app_context():
        session = db_session()
        viewer = session.scalar(select(User).where(User.username == username))
        return board_json(board.snapshot(session, viewer, utcnow(), org_settings.load(session)))


def test_14_3_users_add_takes_a_display_name_and_the_username_stays_for_sign_in(app, runner):
    result = runner.invoke(args=["users", "add", "spatel", "--role", "line_manager", "--name", "Sam Patel"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db_session().scalar(select(User).where(User.username == "spatel"))
        assert (user.username, user.display_name, user.shown_name) == ("spatel", "Sam Patel", "Sam Patel")
    listing = runner.invoke(args=["users", "list"]).output.splitlines()
    assert any(line.startswith("spatel") and line.endswith("Sam Patel") for line in listing)


def test_14_3_m1_script_queue_and_incident_name_the_manager_and_handler_by_display_name(app, client, team):
    _name(app, "manager", "Sam Patel")
    _name(app, "handler", "Ali Khan")
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    dialled = post(client, f"/callbacks/{tid}/dial", team["manager"]).get_json()
    assert dialled["script"].startswith("This is Sam Patel, a line manager at ")  # M1
    sign_in(app, client, "manager")
    queue = client.get("/callbacks").get_data(as_text=True)
    assert "This is Sam Patel, a line manager" in queue and "Ali Khan" in queue
    incident = client.get(f"/incidents/{t['incident_id']}").get_data(as_text=True)
    assert "<dd>Ali Khan</dd>" in incident
    with app.app_context():
        summary = incident_records.summary(db_session(), db_session().get(Incident, t["incident_id"]))
    assert "Staff member: Ali Khan" in summary  # the emails


def test_14_3_the_board_names_handlers_by_display_name_and_falls_back_to_the_username(app, client, ring, team):
    sid, _ = ring("+447700900301")
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"]).status_code == 200
    assert _snapshot(app, "supervisor")["calls"][0]["handler"] == "handler"  # no display name: the username
    _name(app, "handler", "Ali Khan")
    assert _snapshot(app, "supervisor")["calls"][0]["handler"] == "Ali Khan"


def test_14_6_outcome_flash_and_closed_tasks_show_labels_not_codes(app, client, team):
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    post(client, f"/callbacks/{tid}/dial", team["manager"])
    sign_in(app, client, "manager")
    page = client.post(f"/callbacks/{tid}/outcome", follow_redirects=True,
                       data={"outcome": "behaviour_not_improved", "customer_said_or_did": "Swore again"})
    text = page.get_data(as_text=True)
    assert "Outcome recorded: Behaviour not improved." in text
    assert "What the customer said or did: Swore again" in text
    assert "behaviour_not_improved" not in text.replace('value="behaviour_not_improved"', "")
    assert "customer_said_or_did:" not in text
    api = client.get("/api/v1/callbacks", headers=team["manager"]["headers"]).get_json()  # the API keeps codes
    assert api["callbacks"] == []
    incident = client.get(f"/incidents/{t['incident_id']}").get_data(as_text=True)
    assert "Behaviour not improved" in incident and "behaviour_not_improved" not in incident
    with app.app_context():
        summary = incident_records.summary(db_session(), db_session().get(Incident, t["incident_id"]))
    assert "Callback attempt 1: Behaviour not improved" in summary


def test_14_6_every_vocabulary_answers_a_label_and_unknown_codes_stay_readable():
    for name, table in VOCABULARIES.items():
        for code in table:
            assert label(name, code) and "_" not in label(name, code), (name, code)
    assert label("outcome", "brand_new_code") == "brand new code"
    assert label("outcome", None) == ""


def test_14_8_two_callers_with_the_same_last_four_digits_look_different_on_the_board(app, ring, team):
    first, _ = ring("+441132960123")  # Leeds
    second, _ = ring("+442079460123")  # London, same last four
    cards = {c["call_sid"]: c for c in _snapshot(app, "supervisor")["ringing"]}
    a, b = cards[first], cards[second]
    assert a["caller"][-4:] == b["caller"][-4:] == "0123"  # still masked to the last four (CONTRACT /board)
    assert (a["caller"], a["caller_area"], a["call_label"]) != (b["caller"], b["caller_area"], b["call_label"])
    assert (a["caller_area"], b["caller_area"]) == ("Leeds", "London")
    assert a["call_label"] != b["call_label"]  # even when the areas agree, the call labels differ


def test_14_8_incident_form_is_prefilled_from_the_call_and_refuses_text_that_is_not_a_date(app, client, team):
    t = terminated_call(app, client, team["handler"])
    sign_in(app, client, "manager")
    page = client.get(f"/incidents/{t['incident_id']}").get_data(as_text=True)
    with app.app_context():
        known = incident_records.known_when(db_session(), db_session().get(Incident, t["incident_id"]))
    assert f'value="{known["incident_date"]}"' in page and f'value="{known["incident_time"]}"' in page
    assert 'type="date"' in page and 'type="time"' in page
    headers = team["manager"]["headers"]
    for field, value in (("incident_date", "last Tuesday"), ("incident_date", "2026-02-30"),
                         ("incident_date", (utcnow() + timedelta(days=3)).date().isoformat()),
                         ("incident_time", "teatime"), ("incident_time", "25:10")):
        refused = client.put(f"/api/v1/incidents/{t['incident_id']}", headers=headers, json={field: value})
        assert refused.status_code == 400, (field, value)
        assert refused.get_json()["error"]["code"] in ("invalid_date", "invalid_time")
    form = client.post(f"/incidents/{t['incident_id']}", data={"incident_date": "someday"})
    assert form.status_code == 400 and "is not a date" in form.get_data(as_text=True)
    ok = client.put(f"/api/v1/incidents/{t['incident_id']}", headers=headers,
                    json={"incident_date": "25/11/2026", "incident_time": "9:05"})
    assert ok.status_code == 200
    assert (ok.get_json()["details"]["incident_date"], ok.get_json()["details"]["incident_time"]) == (
        "2026-11-25", "09:05")  # stored in one form


def test_14_8_an_imported_own_entry_is_not_labelled_a_partners_register(app, client, staff):
    staff.add("panel1", "panel_member")
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with app.app_context():
        session = db_session()
        customer = Customer(name="Alex Example", created_at=now)
        session.add(customer)
        session.flush()
        entries = [RegisterEntry(customer_id=customer.id, status="in_force", marker=2, source=source, created_at=now,
                                 added_on=now, expires_at=now + timedelta(days=300)) for source in ("own", "partner")]
        session.add_all(entries)
        session.commit()
        own, partner = (e.id for e in entries)
    sign_in(app, client, "panel1")
    own_page = client.get(f"/register/entries/{own}").get_data(as_text=True)
    assert "imported from our own register" in own_page and "partner" not in own_page.split("Incident record")[1][:80]
    assert "imported from partner&#39;s register" in client.get(f"/register/entries/{partner}").get_data(as_text=True)


@pytest.mark.parametrize("path,back", [("/register/review", "/register"), ("/callbacks/1/claim", "/callbacks"),
                                       ("/admin/users/1/deactivate", "/admin/users")])
def test_14_8_a_form_address_opened_in_the_browser_is_a_page_not_a_raw_405(app, client, staff, path, back):
    staff.add("panel1", "panel_member")
    sign_in(app, client, "panel1")
    response = client.get(path)
    text = response.get_data(as_text=True)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert "This address is for sending a form" in text and f'href="{back}"' in text and "<nav" in text


def test_14_8_the_api_still_answers_a_wrong_method_in_json(client, team):
    response = client.get("/api/v1/callbacks/1/claim", headers=team["manager"]["headers"])
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
