"""Issue 9.14: GET /api/v1/calls/{CallSid} (CONTRACT): the call with its flags as they were at ring
time, its warnings and termination with platform_status; readable by the call's handler, its team's
line managers and supervisors, and admins; anyone else gets a 404, never a 403."""
import pytest
from sqlalchemy import select

from app.db import db_session
from app.simulator import new_call_sid, signed_post
from call_flows.models import Call, RegisterEntry
from tests.page_helpers import add_marker
from tests.register_helpers import CALLER
from tests.test_register_restrictions import _customer, _restrict, _told


def _get(client, sid, who):
    return client.get(f"/api/v1/calls/{sid}", headers=who["headers"])


def _accept(client, sid, who):
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=who["headers"]).status_code == 200


def test_handler_reads_their_call_with_warnings_and_termination(app, client, ring, team):
    sid, _ = ring("07700 900123")
    _accept(client, sid, team["handler"])
    warned = client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"],
                         json={"reason": "abuse"}).get_json()
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                        json={"reason": "abuse"}).get_json()
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "completed", "CallDuration": "61"})
    response = _get(client, sid, team["handler"])
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("call_sid", "caller", "caller_kind", "status", "handler")} == {
        "call_sid": sid, "caller": "+447700900123", "caller_kind": "number", "status": "completed",
        "handler": "handler"}
    assert body["started_at"] <= body["answered_at"] <= body["ended_at"] and body["ended_at"].endswith("+00:00")
    assert body["flags"] == {"marker": None, "signals": [], "restricted": False}
    assert body["warnings"] == [{"id": warned["id"], "reason": "abuse", "created_at": warned["created_at"],
                                 "platform_status": "played"}]
    assert body["termination"] == {"id": ended["id"], "immediate_reason": None, "platform_status": "played",
                                   "case_note_id": ended["case_note_id"], "incident_id": ended["incident_id"],
                                   "callback_task_id": ended["callback_task_id"]}


def test_r1_r10_flags_are_as_they_were_at_ring_time(app, client, ring, team):
    add_marker(app, "+447700900555", marker=2)
    for _ in range(2):  # R10: two earlier warned calls make a repeat_warnings signal
        earlier, _ = ring("+447700900555")
        _accept(client, earlier, team["handler"])
        client.post(f"/api/v1/calls/{earlier}/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
        signed_post(app, client, "/twilio/voice/status", {"CallSid": earlier, "CallStatus": "completed"})
    sid, _ = ring("+447700900555")
    with app.app_context():  # afterwards the entry ends: the call keeps what ring time saw
        db_session().scalar(select(RegisterEntry)).status = "removed"
        db_session().commit()
    _accept(client, sid, team["handler"])
    flags = _get(client, sid, team["handler"]).get_json()["flags"]
    assert flags == {"marker": 2, "signals": ["repeat_warnings"], "restricted": False}
    earlier_flags = _get(client, earlier, team["handler"]).get_json()["flags"]
    assert earlier_flags == {"marker": 2, "signals": [], "restricted": False}  # it saw one warning, not two
    with app.app_context():
        unflagged = ring("+447700900999")[0]
        assert db_session().scalar(select(Call.ring_signals).where(Call.call_sid == unflagged)) is None  # no write


@pytest.mark.parametrize("raw, kind", [("anonymous", "withheld"), ("", "withheld"), ("client:agent7", "client"),
                                       ("sip:bob@example.org", "sip"), ("not-a-number", "invalid")])
def test_caller_is_null_unless_a_number(app, client, ring, team, raw, kind):
    sid, _ = ring(raw)
    body = _get(client, sid, team["supervisor"]).get_json()
    assert (body["caller"], body["caller_kind"]) == (None, kind)


def test_readers_are_the_handler_their_team_managers_supervisors_and_admins_anyone_else_404(app, client, ring,
                                                                                            team, staff):
    sid, _ = ring()
    _accept(client, sid, team["handler"])
    other_team = {
        "handler": staff.add("handler2", "call_handler", team="Passports South"),
        "manager": staff.add("manager2", "line_manager", team="Passports South"),
        "supervisor": staff.add("supervisor2", "supervisor", team="Passports South"),
    }
    same_team_handler = staff.add("handler3", "call_handler", manager="manager", team="Passports North")
    admin = staff.add("admin", "admin")
    panel = staff.add("panel", "panel_member", team="Passports North")
    for who in (team["handler"], team["manager"], team["supervisor"], admin):
        assert _get(client, sid, who).status_code == 200, who["username"]
    for who in (*other_team.values(), same_team_handler, panel):
        response = _get(client, sid, who)
        assert response.status_code == 404, who["username"]
        assert response.get_json()["error"]["code"] == "not_found"
    assert _get(client, new_call_sid(), admin).status_code == 404
    assert client.get(f"/api/v1/calls/{sid}").status_code == 401


def test_late_in_progress_callback_sets_answered_at_when_missing(app, client, ring):
    sid, _ = ring()
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "completed", "CallDuration": "30"})
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "in-progress",
                                                      "Timestamp": "Sun, 29 Nov 2026 09:15:00 +0000"})
    with app.app_context():
        call = db_session().scalar(select(Call).where(Call.call_sid == sid))
        assert call.status == "completed"  # never moves backwards
        assert call.answered_at.isoformat().startswith("2026-11-29T09:15:00")


def test_late_in_progress_callback_without_timestamp_uses_the_end_less_the_duration(app, client, ring):
    sid, _ = ring()
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "completed", "CallDuration": "30"})
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "in-progress"})
    with app.app_context():
        call = db_session().scalar(select(Call).where(Call.call_sid == sid))
        assert (call.ended_at - call.answered_at).total_seconds() == 30


def test_a_late_in_progress_never_moves_an_answered_at_already_set(app, client, ring, team):
    sid, _ = ring()
    _accept(client, sid, team["handler"])
    before = _get(client, sid, team["handler"]).get_json()["answered_at"]
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "in-progress",
                                                      "Timestamp": "Sun, 29 Nov 2026 09:15:00 +0000"})
    assert _get(client, sid, team["handler"]).get_json()["answered_at"] == before


def test_openapi_describes_the_call_and_its_platform_status(client):
    doc = client.get("/openapi.json").get_json()
    op = doc["paths"]["/calls/{CallSid}"]["get"]
    schema_ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = doc["components"]["schemas"]
    call = schemas[schema_ref.rsplit("/", 1)[1]]
    assert set(call["required"]) >= {"call_sid", "caller", "caller_kind", "status", "started_at", "answered_at",
                                     "ended_at", "handler", "flags", "warnings", "termination"}
    assert schemas["WarningOut"]["properties"]["platform_status"]["enum"] == ["pending", "played", "caller_left",
                                                                              "failed"]


def test_c3_a_restricted_caller_is_restricted_at_ring_time(app, client, ring, team, staff):
    customer_id = _customer(client, ring, team, staff)
    _told(client, team, customer_id)
    assert _restrict(client, team, customer_id, kind="written_only").status_code == 201
    sid, _ = ring(CALLER)
    flags = _get(client, sid, team["supervisor"]).get_json()["flags"]
    assert flags["restricted"] is True and flags["marker"] is not None
