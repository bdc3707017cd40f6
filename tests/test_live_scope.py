"""Issue 10 item 2: each console and board stream carries only what its reader may see. Ringing
calls (no team yet) reach everyone; a taken call's events reach its handler and the readers who
watch its team; a team-lead alert (a named colleague's recovery after an abusive call) reaches that
lead and the team's supervisors only (R9: least data per role)."""
import json

import pytest

from call_flows.live_events import publish
from app.pages.live import stream_events
from app.simulator import new_call_sid, signed_post
from call_flows.staff.live_scope import Reader, may_see, reader_for

READERS = ("owner", "colleague", "lead", "supervisor_a", "handler_b", "supervisor_b", "supervisor_all")
TEAM_A = {"owner", "colleague", "lead", "supervisor_a", "supervisor_all"}
EVERYONE = set(READERS)
# (kind, which call) -> the readers whose stream carries it
EXPECTED = {
    ("call_ringing", "taken"): EVERYONE,
    ("call_accepted", "taken"): TEAM_A,
    ("call_warned", "taken"): TEAM_A,
    ("warning_played", "taken"): TEAM_A,
    ("call_terminated", "taken"): TEAM_A,
    ("termination_played", "taken"): TEAM_A,
    ("team_lead_alert", "taken"): {"lead", "supervisor_a", "supervisor_all"},
    ("call_status", "taken"): TEAM_A,
    ("call_ringing", "unanswered"): EVERYONE,
    ("call_status", "unanswered"): EVERYONE,
}


@pytest.fixture
def people(staff):
    lead = staff.add("lead", "line_manager", team="Passports North")
    return {
        "lead": lead,
        "owner": staff.add("owner", "call_handler", manager="lead", team="Passports North"),
        "colleague": staff.add("colleague", "call_handler", manager="lead", team="Passports North"),
        "supervisor_a": staff.add("supervisor_a", "supervisor", team="Passports North"),
        "handler_b": staff.add("handler_b", "call_handler", team="Passports South"),
        "supervisor_b": staff.add("supervisor_b", "supervisor", team="Passports South"),
        "supervisor_all": staff.add("supervisor_all", "supervisor"),
    }


def _reader(app, user) -> Reader:
    from app.db import db_session
    from call_flows.models import User

    with app.app_context():
        row = db_session().get(User, user["id"])
        return reader_for(row.id, row.role, row.team_id)


def _events(stream) -> list[dict]:
    return [json.loads(chunk.split("data: ", 1)[1]) for chunk in stream if chunk.startswith("data: ")]


def test_r9_each_stream_carries_only_the_events_its_reader_may_see(app, client, people):
    streams = {name: stream_events(app, _reader(app, people[name]), lifetime=0.3) for name in READERS}
    taken, unanswered = new_call_sid(), new_call_sid()
    for sid in (taken, unanswered):
        signed_post(app, client, "/twilio/voice/inbound",
                    {"CallSid": sid, "From": "+447700900123", "To": "+441632960000", "CallStatus": "ringing"})
    owner = people["owner"]["headers"]
    assert client.post(f"/api/v1/calls/{taken}/accept", headers=owner).status_code == 200
    assert client.post(f"/api/v1/calls/{taken}/warnings", headers=owner, json={"reason": "abuse"}).status_code == 201
    assert client.post(f"/api/v1/calls/{taken}/termination", headers=owner,
                       json={"reason": "abuse"}).status_code == 201
    signed_post(app, client, "/twilio/voice/status", {"CallSid": taken, "CallStatus": "completed"})
    signed_post(app, client, "/twilio/voice/status", {"CallSid": unanswered, "CallStatus": "canceled"})

    names = {taken: "taken", unanswered: "unanswered"}
    seen = {name: {(e["kind"], names.get(e.get("call_sid"), "taken")) for e in _events(stream)}
            for name, stream in streams.items()}
    for (kind, call), readers in EXPECTED.items():
        for reader in READERS:
            assert ((kind, call) in seen[reader]) == (reader in readers), (kind, call, reader)


def test_r9_a_colleagues_recovery_alert_reaches_the_lead_and_supervisors_not_other_handlers(app, client, people):
    """The alert carries a colleague's name after an abusive call: not for their fellow handlers."""
    colleague_stream = stream_events(app, _reader(app, people["colleague"]), lifetime=0.3)
    supervisor_stream = stream_events(app, _reader(app, people["supervisor_a"]), lifetime=0.3)

    (team_id,) = _reader(app, people["owner"]).team_ids
    publish(app.extensions["events"], dict(kind="team_lead_alert", user_id=people["owner"]["id"], username="owner",
                                           team_id=team_id, lead_id=people["lead"]["id"], lead="lead",
                                           ends_at="2026-11-29T10:05:00+00:00"))
    assert [e["kind"] for e in _events(colleague_stream)] == []
    assert [e["username"] for e in _events(supervisor_stream)] == ["owner"]


@pytest.mark.parametrize("kind", ["call_accepted", "call_warned", "warning_played", "call_terminated",
                                  "termination_played", "callback_created", "register_reminder",
                                  "incident_serious"])
def test_r9_an_event_without_its_scope_reaches_no_reader(kind):
    """Fail closed: only a ringing call's own events may go to everyone without an owner."""
    for reader in (Reader(1, "supervisor", None), Reader(2, "call_handler", frozenset({1}))):
        assert not may_see(reader, {"kind": kind, "call_sid": "CA1"})
