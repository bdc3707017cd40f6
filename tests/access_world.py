"""Two teams with every role, and team A's records, for the R9 access tests (issue 10)."""
import re
from dataclasses import dataclass, field

from app.db import db_session
from call_flows.models import ROLES
from tests.page_helpers import add_marker

TEAMS = {"a": "Passports North", "b": "Council South"}
CALLER_A = "+447700900111"  # team A's terminated call, and its live call now
SECRET_QUERY = "SECRET-QUERY-A applied for a passport"  # what the customer said: team A's case note
SECRET_SAID = "SECRET-SAID-A shouted at the adviser"
SECRET_DETAILS = "SECRET-DETAILS-A incident details"
CASE_A = "CASE-A-0001"


@dataclass
class World:
    people: dict = field(default_factory=dict)  # "a:line_manager" -> staff dict (id, username, token, headers)
    ids: dict = field(default_factory=dict)  # URL argument name -> a team A record's id
    secrets: list = field(default_factory=list)  # text only team A's managers, supervisors and admins may see

    def who(self, team: str, role: str) -> dict:
        return self.people[f"{team}:{role}"]


def session_sign_in(client, who) -> dict:
    """A real sign-in through /login (sessions are server-side records, 10.8), with the form's CSRF
    token where CSRF is on; returns the headers a page's script sends (X-CSRFToken from the page's
    csrf-token meta tag)."""
    from werkzeug.security import generate_password_hash

    from app.db import db_session
    from call_flows.models import User

    with client.application.app_context():
        session = db_session()
        session.get(User, who["id"]).password_hash = generate_password_hash("pw-for-tests")
        session.commit()
    form = client.get("/login").get_data(as_text=True)
    data = {"username": who["username"], "password": "pw-for-tests",
            "csrf_token": re.search(r'name="csrf_token" value="([^"]*)"', form).group(1)}
    assert client.post("/login", data=data).status_code == 302
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return {"X-CSRFToken": token}


def build(app, client, staff, ring) -> World:
    """Team A: a handler's call warned and terminated (case note, incident, callback task), the same
    caller on the handler's live call now, a register entry for the caller; team B: the same roles."""
    world = World()
    for team, name in TEAMS.items():
        manager = staff.add(f"manager_{team}", "line_manager", team=name, phone="+44770090001" + str(len(world.people)))
        world.people[f"{team}:line_manager"] = manager
        for role in ROLES:
            if role != "line_manager":
                world.people[f"{team}:{role}"] = staff.add(
                    f"{role}_{team}", role, manager=manager["username"] if role == "call_handler" else None, team=name)
    # /admin/users/<user_id>/...: a team A handler who is none of the identities the matrix signs in as,
    # so deactivating or resetting them there leaves every identity working
    spare = staff.add("spare_handler_a", "call_handler", manager=world.who("a", "line_manager")["username"],
                      team=TEAMS["a"])
    handler = world.who("a", "call_handler")
    sid, _ = ring(from_=CALLER_A)
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    assert client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"],
                       json={"reason": "abuse", "detail": SECRET_SAID}).status_code == 201
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json={
        "reason": "abuse", "case_reference": CASE_A,
        "note": {"query": SECRET_QUERY, "customer_said_or_did": SECRET_SAID}})
    assert ended.status_code == 201, ended.get_json()
    termination = ended.get_json()
    saved = client.put(f"/api/v1/incidents/{termination['incident_id']}",
                       headers=world.who("a", "line_manager")["headers"], json={"details": SECRET_DETAILS})
    assert saved.status_code == 200, saved.get_json()
    live, _ = ring(from_=CALLER_A)
    assert client.post(f"/api/v1/calls/{live}/accept", headers=handler["headers"]).status_code == 200
    add_marker(app, CALLER_A, marker=2, precautions="Two officers")
    with app.app_context():
        from sqlalchemy import select

        from call_flows.models import Call, CustomerPhone, RegisterEntry
        session = db_session()
        customer_id = session.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.phone == CALLER_A))
        entry_id = session.scalar(select(RegisterEntry.id).where(RegisterEntry.customer_id == customer_id))
        live_call_id = session.scalar(select(Call.id).where(Call.call_sid == live))
    world.ids = {"task_id": termination["callback_task_id"], "incident_id": termination["incident_id"],
                 "entry_id": entry_id, "customer_id": customer_id, "appeal_id": 1, "restriction_id": 1, "run_id": 1,
                 "call_id": live_call_id, "call_sid": live, "ended_sid": sid, "reference": CASE_A,
                 "phone": CALLER_A, "username": "call_handler_a",
                 "user_id": spare["id"], "key": "recovery_minutes", "name": "weekly", "filename": "callguard.css"}
    world.secrets = [SECRET_QUERY, SECRET_SAID, SECRET_DETAILS, CASE_A, sid, live]
    return world
