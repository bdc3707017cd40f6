"""Organisation settings have a type and bounds, and R5 letter templates hold placeholders only
(issue 9 item 13; T5, R3, R5, C2, I5); migration 0008 upgrades stored data (items 5 and 13)."""
import json
import re

import pytest
from sqlalchemy import create_engine, text

from app.cli.db_cmd import upgrade
from app.db import db_session
from call_flows.register import letter_template, letters as register_letters
from call_flows import settings as org_settings
from call_flows.errors import InvalidInput
from call_flows.models import Setting

LEGACY = re.sub(r"\{\{ (\w+) \}\}", r"{\1}", register_letters.DEFAULT_TEMPLATE)  # the pre-issue-9 syntax


def put(client, who, key, value):
    return client.put(f"/api/v1/settings/{key}", headers=who["headers"], json={"value": value})


@pytest.mark.parametrize("key,value,bound", [
    ("callback_due_hours", -5, "a whole number from 1 to 336"),  # T5
    ("panel_quorum", 1, "a whole number from 3 to 50"),  # R3: at least 3 members
    ("calls_per_day_threshold", True, "a whole number from 1 to 1000"),  # C2: true is not a number
    ("calls_per_day_threshold", "5", "a whole number from 1 to 1000"),
    ("incident_escalation_hours", 48, "a whole number from 1 to 24"),  # I5: 24 hours at most
    ("letter_due_working_days", 3.0, "a whole number from 1 to 2"),  # R5
    ("greeting", "", "text of 1 to 2000 characters"),
    ("warning_message", True, "text of 1 to 2000 characters"),
    ("hold_music_url", "javascript:alert(1)", "an http(s) URL"),
    ("immediate_termination_recording_url", "ftp://example.org/x.mp3", "an http(s) URL, or empty"),
    ("recipient_hr_service_centre", "not an address", "e-mail addresses separated by commas"),
    ("staff_email_format", "{username.__class__}@example.org", "an address with one {username} placeholder"),
    ("say_language", "english", "a language tag such as en-GB"),
])
def test_a_setting_outside_its_type_or_bounds_is_refused_naming_them(app, client, staff, key, value, bound):
    admin = staff.add("admin", "admin")
    before = client.get("/api/v1/settings", headers=admin["headers"]).get_json()[key]
    refused = put(client, admin, key, value)
    assert refused.status_code == 400, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "invalid_input" and f"setting '{key}' must be {bound}" in error["message"]
    assert client.get("/api/v1/settings", headers=admin["headers"]).get_json()[key] == before


@pytest.mark.parametrize("key,value", [
    ("callback_due_hours", 48), ("panel_quorum", 5), ("immediate_termination_recording_url", ""),
    ("immediate_termination_message", "This call will now end."), ("hold_music_url", "https://example.org/hold.mp3"),
])
def test_a_setting_within_its_bounds_is_saved(app, client, staff, key, value):
    admin = staff.add("admin", "admin")
    saved = put(client, admin, key, value)
    assert saved.status_code == 200 and saved.get_json() == {"key": key, "value": value}
    assert client.get("/api/v1/settings", headers=admin["headers"]).get_json()[key] == value


def test_an_unknown_setting_is_refused(app, client, staff):
    refused = put(client, staff.add("admin", "admin"), "callback_due_hourz", 5)
    assert refused.status_code == 400 and "unknown setting" in refused.get_json()["error"]["message"]


def test_t5_a_stored_value_outside_its_bounds_is_not_used(app):
    with app.app_context():
        session = db_session()
        session.add(Setting(key="callback_due_hours", value=json.dumps(-5)))  # stored before bounds existed
        session.add(Setting(key="panel_quorum", value=json.dumps(True)))
        session.commit()
        values = org_settings.load(session, fresh=True)
    assert values.callback_due_hours == 24 and values.panel_quorum == 3


@pytest.mark.parametrize("injected", [
    "{{ reasons.__class__ }}", "{{ signatory_name|center(999999999) }}", "{{ reasons['x'] }}",
    '{{ "x" * 999999999 }}', "{% for i in range(999999999) %}x{% endfor %}", "{{ config }}", "{{ cycler }}",
    "{{ signatory_name.__init__.__globals__ }}", "{% set x = 1 %}",
])
def test_r5_a_template_with_anything_but_placeholders_is_refused_naming_the_allowed_ones(app, client, staff, injected):
    admin = staff.add("admin", "admin")
    template = register_letters.DEFAULT_TEMPLATE + "\n" + injected
    for response in (client.put("/api/v1/register/letter-template", headers=admin["headers"], json={"template": template}),
                     put(client, admin, "register_letter_template", template)):
        assert response.status_code == 400
        assert "{{ reasons }}, {{ appeal_route }}" in response.get_json()["error"]["message"]
    page = client.post("/register/letter-template", headers=admin["headers"], data={"template": template})
    assert page.status_code == 400 and "{{ signatory_name }}" in page.get_data(as_text=True)


@pytest.mark.parametrize("legacy_field", ["{reasons.__class__}", "{signatory_name:>999999999}", "{reasons!r}",
                                          "{reasons[0]}"])
def test_r5_an_older_style_template_with_attribute_access_or_format_specs_is_refused(legacy_field):
    with pytest.raises(InvalidInput) as refused:
        register_letters.validate_template(LEGACY + "\n" + legacy_field)
    assert "{{ signatory_name }}" in refused.value.message


def test_r5_an_older_style_template_is_saved_in_the_new_syntax(app, client, staff):
    admin = staff.add("admin", "admin")
    saved = client.put("/api/v1/register/letter-template", headers=admin["headers"], json={"template": LEGACY})
    assert saved.status_code == 200 and saved.get_json()["template"] == register_letters.DEFAULT_TEMPLATE


def test_r5_a_stored_older_style_template_keeps_working():
    values = {name: f"<{name}>" for name in letter_template.ALLOWED}
    settings = org_settings.OrgSettings.model_construct(register_letter_template="Harborough\n\n" + LEGACY)
    body = letter_template.render(register_letters.template_text(settings), values)
    assert body.startswith("Harborough\n\n<customer_name>") and "<signatory_name>\n<signatory_title>" in body


def test_r5_rendering_is_plain_text_and_values_are_not_templates():
    values = {name: "{{ 7 * 7 }} {reasons.__class__}" for name in letter_template.ALLOWED}
    body = letter_template.render(register_letters.DEFAULT_TEMPLATE, values)
    assert "{{ 7 * 7 }} {reasons.__class__}" in body and "49" not in body


def test_migration_0008_clears_withheld_placeholders_and_upgrades_the_letter_template(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url, "0005")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for i, caller in enumerate(["+86282452253", "+447700900123"]):
                conn.execute(text("INSERT INTO calls (call_sid, direction, caller, caller_kind, caller_raw, status, "
                                  "started_at) VALUES (:sid, 'inbound', :c, 'number', :c, 'completed', "
                                  "'2026-06-01 10:00:00')"), {"sid": f"CA{i}", "c": caller})
                conn.execute(text("INSERT INTO callback_tasks (case_reference, caller, status, need_arose_at, due_at, "
                                  "attempts) VALUES ('PP-1', :c, 'open', '2026-06-01', '2026-06-02', 0)"), {"c": caller})
            conn.execute(text("INSERT INTO customers (id, created_at) VALUES (1, '2026-06-01')"))
            conn.execute(text("INSERT INTO customer_phones (customer_id, phone) VALUES (1, '+86282452253')"))
            conn.execute(text("INSERT INTO settings (key, value) VALUES ('register_letter_template', :v)"),
                         {"v": json.dumps(LEGACY.replace("{signatory_name}", "{signatory_name:>999999999}"))})
        upgrade(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT caller, caller_kind FROM calls ORDER BY id")).all() == [
                (None, "withheld"), ("+447700900123", "number")]
            assert [r[0] for r in conn.execute(text("SELECT caller FROM callback_tasks ORDER BY id"))] == [
                None, "+447700900123"]
            assert conn.execute(text("SELECT count(*) FROM customer_phones")).scalar() == 0
            stored = json.loads(conn.execute(text("SELECT value FROM settings")).scalar())
        assert stored == register_letters.DEFAULT_TEMPLATE  # the format spec dropped, the syntax upgraded
    finally:
        engine.dispose()
