"""Issue 14.9: every email links to the record it is about (PUBLIC_BASE_URL + the record's page) and
carries every field it promises; none shows an empty field (the I7 email above all: it goes out
before the manager has filled the record in)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db_session
from call_flows.clock import utcnow
from call_flows.models import EmailDelivery
from tests.callback_helpers import mail_app, post, terminated_call, tick  # noqa: F401  (mail_app is a fixture)
from tests.conftest import Staff
from tests.test_incidents import FIELDS

BASE = "https://callguard.example.org"
KINDS = {"new_callback", "team_lead_alert", "overdue", "retry_due", "escalation_i5", "serious_i7",
         "serious_i7_decision", "distribution", "register_reminder"}


@pytest.fixture
def people(mail_app):
    mail_app.config["PUBLIC_BASE_URL"] = BASE
    staff = Staff(mail_app)
    return {"manager": staff.add("manager", "line_manager", team="North", phone="+447700900001"),
            "handler": staff.add("handler", "call_handler", manager="manager", team="North"),
            "supervisor": staff.add("supervisor", "supervisor", team="North")}


def _mails(app) -> dict[str, list[EmailDelivery]]:
    with app.app_context():
        found: dict[str, list] = {}
        for delivery in db_session().scalars(select(EmailDelivery).order_by(EmailDelivery.id)):
            found.setdefault(delivery.purpose, []).append(delivery)
        return found


def _empty_fields(body: str) -> list[str]:
    """Lines of the form "Label: value" whose value says nothing."""
    return [line for line in body.splitlines()
            if re.match(r"^[A-Z][^:]{0,80}:\s*(-|None|null|)\s*$", line)]


def test_each_email_kind_links_to_its_record_and_has_no_empty_field(mail_app, people):
    client = mail_app.test_client()
    first = terminated_call(mail_app, client, people["handler"])  # new_callback, team_lead_alert
    serious = terminated_call(mail_app, client, people["handler"], case_reference="PP-777",
                              immediate="threat_of_violence")
    post(client, f"/callbacks/{serious['callback_task_id']}/claim", people["manager"])
    # 14.8: no_answer is recorded only after a dial attempt
    assert post(client, f"/callbacks/{serious['callback_task_id']}/dial", people["manager"]).status_code == 202
    assert post(client, f"/callbacks/{serious['callback_task_id']}/outcome", people["manager"],
                {"outcome": "no_answer"}).status_code == 200
    tick(mail_app, utcnow() + timedelta(hours=25))  # overdue, retry_due, I5, I7
    decided = post(client, f"/incidents/{serious['incident_id']}/police-decision", people["supervisor"],
                   {"decision": "police_informed", "note": "Threat to attend the office"})
    assert decided.status_code == 200, decided.get_json()
    assert client.put(f"/api/v1/incidents/{first['incident_id']}", headers=people["manager"]["headers"],
                      json=FIELDS).status_code == 200
    assert post(client, f"/incidents/{first['incident_id']}/complete", people["manager"]).status_code == 200
    mails = _mails(mail_app)
    assert KINDS - {"register_reminder"} <= set(mails), sorted(mails)
    first_sid = first["call_sid"]
    links = {"new_callback": f"/callbacks#task-{first['callback_task_id']}",
             "team_lead_alert": f"/calls/{first_sid}", "overdue": f"/calls/{first_sid}",
             "retry_due": f"/callbacks#task-{serious['callback_task_id']}",
             "escalation_i5": f"/incidents/{first['incident_id']}", "serious_i7": f"/incidents/{serious['incident_id']}",
             "serious_i7_decision": f"/incidents/{serious['incident_id']}",
             "distribution": f"/incidents/{first['incident_id']}"}
    for kind, path in links.items():
        delivery = mails[kind][0]
        assert f"Open it in callguard: {BASE}{path}\n" in delivery.body, (kind, delivery.body)
        assert _empty_fields(delivery.body) == [], (kind, delivery.body)
    new = mails["new_callback"][0].body
    assert "case PP-123" in new and "Caller: +447700900123" in new and "Handler: handler" in new
    overdue = mails["overdue"][0].body
    assert "Line manager: manager" in overdue and "Attempts so far: 0" in overdue


def test_i7_email_says_what_is_known_and_no_field_is_empty(mail_app, people):
    client = mail_app.test_client()
    serious = terminated_call(mail_app, client, people["handler"], case_reference="PP-777",
                              immediate="threat_of_violence")
    tick(mail_app, utcnow())
    body = _mails(mail_app)["serious_i7"][0].body
    for expected in ("Case reference: PP-777", "Staff member: handler", "Caller: +447700900123", "Team: North",
                     "Serious (threat of violence, I7): yes", "Ended without a warning because: threat of violence",
                     "Call ended for behaviour at", f"{BASE}/incidents/{serious['incident_id']}"):
        assert expected in body, (expected, body)
    assert _empty_fields(body) == [] and "Location" not in body  # not filled in yet: left out, not blank


def test_register_reminder_links_to_the_entry(app, staff):
    from tests.register_helpers import at, panel
    from tests.test_register_reviews import _entry_at
    from workers.register_jobs import register_deadlines

    app.config["PUBLIC_BASE_URL"] = BASE + "/"  # a trailing slash makes no double slash
    entry_id = _entry_at(app, panel(staff), at(2026, 1, 5, 9))
    register_deadlines(app.extensions["handover"], at(2026, 7, 6, 9))
    bodies = [d.body for d in _mails(app)["register_reminder"]]
    assert any(f"Open it in callguard: {BASE}/register/entries/{entry_id}\n" in b for b in bodies), bodies
    assert any(f"Open it in callguard: {BASE}/register\n" in b for b in bodies), bodies  # the whole register
    assert all(_empty_fields(b) == [] for b in bodies)
