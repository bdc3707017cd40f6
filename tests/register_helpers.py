"""Helpers for the caution-register tests: an incident from a real terminated call, a review panel,
and the propose -> decide -> letter path through the API."""
from datetime import datetime, timezone

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.models import User

CALLER = "+447700900123"


def incident_from_call(client, ring, team, caller=CALLER) -> int:
    """T1-T5 on a real call: the termination opens the incident record the panel decides on (R3)."""
    sid, _ = ring(caller)
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"]).status_code == 200
    client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json={"reason": "threats"})
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                        json={"reason": "threats", "case_reference": "PP-9"})
    assert ended.status_code == 201, ended.get_json()
    return ended.get_json()["incident_id"]


def panel(staff, n=4) -> list[dict]:
    """Review panel members (R3); the first is the chair."""
    return [staff.add(f"panel{i}", "panel_member") for i in range(1, n + 1)]


def propose(client, manager, incident_id, name="Alex Example", phones=None, **extra):
    body = {"incident_id": incident_id, "name": name, "summary": "Threatened the adviser on 1 March",
            "phones": phones if phones is not None else [], "address": "1 High Street\nMarket Town", **extra}
    return client.post("/api/v1/register/proposals", headers=manager["headers"], json=body)


def decide(client, member, entry_id, members, chair=None, **extra):
    body = {"outcome": "add", "member_ids": [m["id"] for m in members], "chair_id": (chair or members[0])["id"],
            "justification": "Threat of harm to an adviser recorded in incident record", "marker": 2,
            "precautions": "Two officers; appointment only", "signatory_name": "Pat Chair",
            "signatory_title": "Corporate Director", **extra}
    return client.post(f"/api/v1/register/entries/{entry_id}/decision", headers=member["headers"], json=body)


def in_force(client, ring, team, members, caller=CALLER, **extra) -> int:
    """The whole path: incident -> proposal -> decision -> letter sent. Returns the entry id."""
    incident_id = incident_from_call(client, ring, team, caller)
    proposed = propose(client, team["manager"], incident_id, **extra)
    assert proposed.status_code == 201, proposed.get_json()
    entry_id = proposed.get_json()["id"]
    assert decide(client, members[0], entry_id, members[:3]).status_code == 201
    sent = client.post(f"/api/v1/register/entries/{entry_id}/letter/sent", headers=members[0]["headers"], json={})
    assert sent.status_code == 200, sent.get_json()
    return entry_id


def at(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def user(app, user_id) -> User:
    return db_session().get(User, user_id)


def settings(app):
    return org_settings.load(db_session(), fresh=True)
