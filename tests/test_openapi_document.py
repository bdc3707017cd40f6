"""Issue 10: what schemathesis found where `/openapi.json` and the API disagreed, one test each."""
from tests.register_helpers import incident_from_call


def test_contract_an_unauthenticated_post_is_401_not_a_csrf_error(client):
    """CONTRACT: an unauthenticated request is a 401 whatever its method (it was a 400 'CSRF token missing')."""
    for method, path in (("post", "/api/v1/register/reviews"), ("put", "/api/v1/callbacks/deputy"),
                         ("post", "/api/v1/callbacks/1/claim"), ("put", "/api/v1/settings/greeting")):
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401, (path, response.get_json())
        assert response.get_json()["error"]["code"] == "unauthorised"


def test_openapi_ids_are_positive_integers_and_setting_keys_are_listed(client):
    doc = client.get("/openapi.json").get_json()
    incident = doc["paths"]["/incidents/{id}"]
    assert incident["get"]["parameters"][0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    key = doc["paths"]["/settings/{key}"]["put"]["parameters"][0]["schema"]
    assert "retention_calls_days" in key["enum"] and "greeting" in key["enum"]
    assert doc["paths"]["/settings/{key}"]["put"]["requestBody"]["required"] is True


def test_i6_openapi_documents_that_deleting_an_incident_is_refused(client, ring, team):
    doc = client.get("/openapi.json").get_json()
    assert "405" in doc["paths"]["/incidents/{id}"]["delete"]["responses"]
    incident_id = incident_from_call(client, ring, team)
    refused = client.delete(f"/api/v1/incidents/{incident_id}", headers=team["manager"]["headers"])
    assert refused.status_code == 405 and refused.get_json()["error"]["code"] == "incident_not_deletable"


def test_openapi_a_body_whose_fields_are_all_optional_may_be_left_out(client, team):
    doc = client.get("/openapi.json").get_json()
    assert doc["paths"]["/incidents/{id}"]["put"]["requestBody"]["required"] is False
    assert doc["paths"]["/register/entries/{id}/letter/sent"]["post"]["requestBody"]["required"] is False
    assert doc["paths"]["/calls/{CallSid}/warnings"]["post"]["requestBody"]["required"] is True
    # 9.12: the deputy body is required (an empty PUT would clear the deputy): refused, and documented so
    assert doc["paths"]["/callbacks/deputy"]["put"]["requestBody"]["required"] is True
    assert client.put("/api/v1/callbacks/deputy", headers=team["manager"]["headers"]).status_code == 400


def test_i1_a_null_flag_on_the_incident_record_means_not_answered(client, ring, team):
    """/openapi.json allows null for riddor_reportable and the other flags; it was refused with a 400."""
    incident_id = incident_from_call(client, ring, team)
    saved = client.put(f"/api/v1/incidents/{incident_id}", headers=team["manager"]["headers"],
                       json={"riddor_reportable": None, "security_breach": True, "comments": "shouting"})
    assert saved.status_code == 200, saved.get_json()
    refused = client.put(f"/api/v1/incidents/{incident_id}", headers=team["manager"]["headers"],
                         json={"riddor_reportable": "maybe"})
    assert refused.status_code == 400


def test_a_setting_is_changed_with_a_documented_body(client, staff):
    admin = staff.add("admin", "admin")
    missing = client.put("/api/v1/settings/retention_mail_days", headers=admin["headers"])
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "invalid_input"
    changed = client.put("/api/v1/settings/retention_mail_days", headers=admin["headers"], json={"value": 14})
    assert changed.status_code == 200 and changed.get_json() == {"key": "retention_mail_days", "value": 14}


def test_query_models_are_documented_as_the_views_read_them(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    status = next(p for p in paths["/register/entries"]["get"]["parameters"] if p["name"] == "status")
    assert status["in"] == "query" and "in_force" in status["description"]
    page = next(p for p in paths["/calls"]["get"]["parameters"] if p["name"] == "page")
    assert (page["schema"]["minimum"], page["schema"]["maximum"]) == (1, 100000)
