"""Issue 11.4: one validator. A page posting the same act as an API route is checked by the same model
(the same refusal, word for word); /openapi.json is generated from the routes, so every API route is
in it; organisation settings are a typed model."""
import pytest
from pydantic import ValidationError

from app.api.callback_schemas import CancelIn
from call_flows import settings as org_settings
from call_flows.errors import InvalidInput
from call_flows.validation import clean_text, message
from tests.callback_helpers import post, terminated_call
from tests.page_helpers import sign_in


@pytest.mark.parametrize("reason, refusal", [("   ", "reason is required"),
                                             ("spilt\x00tea", "reason contains a NUL character"),
                                             ("x" * 2001, "reason is longer than 2000 characters")])
def test_the_page_and_the_api_refuse_a_bad_cancel_reason_with_the_same_words(app, client, team, reason, refusal):
    task_id = terminated_call(app, client, team["handler"])["callback_task_id"]
    api = post(client, f"/callbacks/{task_id}/cancel", team["manager"], {"reason": reason})
    assert api.status_code == 400 and api.get_json()["error"] == {"code": "invalid_input", "message": refusal}
    sign_in(app, client, team["manager"]["username"])
    page = client.post(f"/callbacks/{task_id}/cancel", data={"reason": reason})
    assert page.status_code == 400 and refusal in page.get_data(as_text=True)
    if reason.strip() and "\x00" not in reason:
        assert f">{reason}</textarea>" in page.get_data(as_text=True)  # nothing lost of what was typed
    done = client.post(f"/callbacks/{task_id}/cancel", data={"reason": "  wrote in instead  "})
    assert done.status_code == 302
    task = client.get("/api/v1/callbacks", headers=team["manager"]["headers"]).get_json()
    assert all(t["id"] != task_id for t in task["callbacks"])  # cancelled: no longer in the queue


def test_the_model_and_clean_text_are_one_rule():
    for value in ("  kept  ", "", "a\x00b", "y" * 2001):
        try:
            expected = ("ok", CancelIn(reason=value).reason)
        except ValidationError as exc:
            expected = ("refused", message(exc))
        try:
            got = ("ok", clean_text(value, "reason", required=True, max_len=2000))
        except InvalidInput as exc:
            got = ("refused", exc.message)
        assert got == expected


def test_every_api_route_is_in_the_generated_document(app, client):
    doc = client.get("/openapi.json").get_json()
    documented = {(method.upper(), "/api/v1" + path) for path, ops in doc["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule
            for name in rule.arguments:
                converter = rule._converters[name].__class__.__name__
                shown = "id" if converter == "BoundedInt" else {"call_sid": "CallSid"}.get(name, name)
                path = path.replace(f"<{name}>", "{" + shown + "}")
                path = path.replace(f"<int:{name}>", "{" + shown + "}").replace(f"<path:{name}>", "{" + shown + "}")
            routes |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
    assert doc["paths"]["/calls/{CallSid}/warnings"]["post"]["summary"] == "Warn the caller (T1)"


def test_settings_are_a_typed_model_with_one_default_each(app):
    from app.db import db_session

    with app.app_context():
        settings = org_settings.load(db_session(), fresh=True)
    assert isinstance(settings, org_settings.OrgSettings)
    assert settings.callback_due_hours == org_settings.DEFAULTS["callback_due_hours"] == 24
    with pytest.raises(TypeError):
        settings["callback_due_hours"]  # noqa: B018  (no dict look-ups left to drift from the model)


def test_a_refused_outcome_keeps_what_the_manager_typed(app, client, team):
    task_id = terminated_call(app, client, team["handler"])["callback_task_id"]
    assert post(client, f"/callbacks/{task_id}/claim", team["manager"]).status_code == 200
    sign_in(app, client, team["manager"]["username"])
    typed = {"outcome": "resolved", "spoke_to": "Mr <Smith>", "query": "renewal", "told_customer": ""}
    page = client.post(f"/callbacks/{task_id}/outcome", data=typed)
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "told_customer is required" in text  # M1
    assert 'value="Mr &lt;Smith&gt;"' in text and 'value="renewal"' in text
    assert 'value="resolved" required checked' in text
