"""Staff API: authentication, role checks, JSON errors, case notes (M3), OpenAPI."""
import pytest


def _terminated_call(client, ring, handler, case_reference="PP-1"):
    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"])
    client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"],
                json={"reason": "abuse", "case_reference": case_reference,
                      "note": {"customer_said_or_did": "<script>alert(1)</script>"}})
    return sid


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_api_needs_a_valid_token(client, headers):
    response = client.get("/api/v1/callbacks", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorised"


def test_a_handler_cannot_read_a_managers_queue(client, team):
    response = client.get("/api/v1/callbacks", headers=team["handler"]["headers"])
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_a_manager_sees_only_their_teams_callbacks(client, ring, team, staff):
    staff.add("other_manager", "line_manager", team="Council South")
    other_handler = staff.add("other_handler", "call_handler", manager="other_manager", team="Council South")
    other = staff.add("third_manager", "line_manager", team="Elsewhere")
    _terminated_call(client, ring, team["handler"], "MINE-1")
    _terminated_call(client, ring, other_handler, "THEIRS-1")
    mine = client.get("/api/v1/callbacks", headers=team["manager"]["headers"]).get_json()["callbacks"]
    assert [c["case_reference"] for c in mine] == ["MINE-1"]
    assert client.get("/api/v1/callbacks", headers=other["headers"]).get_json()["callbacks"] == []


def test_r9_only_the_calls_handler_or_a_supervisor_may_warn(client, ring, team, staff):
    intruder = staff.add("intruder", "call_handler", team="Passports North")
    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    refused = client.post(f"/api/v1/calls/{sid}/warnings", headers=intruder["headers"], json={"reason": "abuse"})
    assert refused.status_code == 404  # R9: another handler's call does not exist for them
    allowed = client.post(f"/api/v1/calls/{sid}/warnings", headers=team["supervisor"]["headers"], json={"reason": "abuse"})
    assert allowed.status_code == 201


def test_a_second_handler_cannot_take_an_accepted_call(client, ring, team, staff):
    other = staff.add("second", "call_handler", team="Passports North")
    sid, _ = ring()
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"]).status_code == 200
    taken = client.post(f"/api/v1/calls/{sid}/accept", headers=other["headers"])
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "already_accepted"


@pytest.mark.parametrize("body,code", [
    ({"reason": "rude"}, "invalid_input"),
    ({"reason": "abuse", "detail": "x" * 5000}, "invalid_input"),
    ({"reason": "abuse", "surprise": 1}, "invalid_input"),
    ([1, 2], "invalid_input"),
])
def test_bad_warning_bodies_are_clear_400s(client, ring, team, body, code):
    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    response = client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json=body)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_unknown_call_is_404(client, team):
    response = client.post("/api/v1/calls/CAnope/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
    assert response.status_code == 404


def test_t3_immediate_reason_ends_a_call_without_a_warning_and_is_recorded(client, ring, team):
    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    response = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                           json={"reason": "threats", "immediate_reason": "threat_of_violence"})
    assert response.status_code == 201 and response.get_json()["immediate_reason"] == "threat_of_violence"
    vague = client.post(f"/api/v1/calls/{ring()[0]}/termination", headers=team["supervisor"]["headers"],
                        json={"reason": "other", "immediate_reason": "other_serious"})
    assert vague.status_code == 400  # other_serious needs its detail


def test_t4_case_note_holds_what_the_service_knows_and_what_the_handler_wrote(client, ring, team):
    _terminated_call(client, ring, team["handler"], "PP-77")
    notes = client.get("/api/v1/cases/PP-77/notes", headers=team["manager"]["headers"]).get_json()["notes"]
    assert len(notes) == 1
    note = notes[0]
    assert note["known"]["caller"] == "+447700900123" and note["known"]["handler"] == "handler"
    assert [w["reason"] for w in note["known"]["warnings"]] == ["abuse"]
    assert note["fields"]["customer_said_or_did"] == "<script>alert(1)</script>"  # stored as written, JSON-escaped


def test_t2_need_is_recorded_and_reaches_the_case_note(client, ring, team):
    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    assert client.post(f"/api/v1/calls/{sid}/need", headers=team["handler"]["headers"],
                       json={"need": "caller mentioned anxiety"}).status_code == 200
    client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
    client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                json={"reason": "abuse", "case_reference": "NEED-1"})
    note = client.get("/api/v1/cases/NEED-1/notes", headers=team["manager"]["headers"]).get_json()["notes"][0]
    assert note["known"]["needs_note"] == "caller mentioned anxiety"


def test_callers_endpoint_rejects_unparseable_numbers(client, team):
    response = client.get("/api/v1/callers/banana", headers=team["handler"]["headers"])
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_phone"


def test_unknown_caller_is_200_with_no_flags(client, team):
    body = client.get("/api/v1/callers/+447700900999", headers=team["manager"]["headers"]).get_json()
    assert body["register"] is None and body["restriction"] is None and body["signals"]["warnings"] == 0


def test_openapi_describes_the_contract_endpoints(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ["/calls/{CallSid}/warnings", "/calls/{CallSid}/termination", "/callers/{phone}", "/callbacks",
                 "/cases/{reference}/notes"]:
        assert path in doc["paths"], path
    reasons = doc["components"]["schemas"]["WarningIn"]["properties"]["reason"]["enum"]
    assert "acoustic_shock" in reasons


def test_t1_warning_wording_is_configurable_by_an_admin(app, client, ring, team, staff):
    admin = staff.add("admin", "admin")
    assert client.put("/api/v1/settings/warning_message", headers=team["handler"]["headers"],
                      json={"value": "x"}).status_code == 403
    assert client.put("/api/v1/settings/warning_message", headers=admin["headers"], json={"value": 5}).status_code == 400
    assert client.put("/api/v1/settings/no_such", headers=admin["headers"], json={"value": "x"}).status_code == 400
    changed = client.put("/api/v1/settings/warning_message", headers=admin["headers"],
                         json={"value": "Please moderate your language."})
    assert changed.status_code == 200
    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
    heard = app.test_cli_runner().invoke(args=["sim", "hear", sid]).output
    assert "Please moderate your language." in heard
