"""Issue 10 (DOMAIN R9: least data per role, who viewed what is logged): case notes, call controls,
proposals and caller look-ups are scoped to what the person may see; everything shown is audited."""
import pytest
from sqlalchemy import select

from app.db import db_session
from call_flows.models import AuditLog
from tests.access_world import CALLER_A, CASE_A, SECRET_QUERY, build, session_sign_in
from tests.page_helpers import add_marker


@pytest.fixture
def world(app, client, staff, ring):
    return build(app, client, staff, ring)


def _notes(client, who, reference=CASE_A):
    return client.get(f"/api/v1/cases/{reference}/notes", headers=who["headers"])


def _audit(app, **where):
    with app.app_context():
        query = select(AuditLog).order_by(AuditLog.id)
        for column, value in where.items():
            query = query.where(getattr(AuditLog, column) == value)
        return [(a.actor_id, a.action, a.entity, a.entity_id, a.detail) for a in db_session().scalars(query)]


# 10.1 case notes

@pytest.mark.parametrize("key", ["a:call_handler", "a:line_manager", "a:supervisor", "a:admin", "b:admin"])
def test_r9_case_notes_are_read_by_the_author_the_teams_managers_supervisors_and_admins(client, world, key):
    response = _notes(client, world.people[key])
    assert response.status_code == 200
    assert [n["fields"]["query"] for n in response.get_json()["notes"]] == [SECRET_QUERY]


@pytest.mark.parametrize("key", ["b:call_handler", "b:line_manager", "b:supervisor", "b:panel_member",
                                 "a:panel_member"])
def test_r9_case_notes_of_another_team_are_404_exactly_like_a_case_that_does_not_exist(client, world, key):
    hidden, missing = _notes(client, world.people[key]), _notes(client, world.people[key], "NO-SUCH-CASE")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["error"]["code"] == missing.get_json()["error"]["code"] == "not_found"
    assert hidden.get_json()["error"]["message"].replace(CASE_A, "X") == \
        missing.get_json()["error"]["message"].replace("NO-SUCH-CASE", "X")


def test_r9_another_handler_of_the_same_team_does_not_read_the_notes(client, world, staff):
    colleague = staff.add("colleague_a", "call_handler", manager="manager_a", team="Passports North")
    assert _notes(client, colleague).status_code == 404


def test_r9_a_deputy_reads_the_notes_of_the_queue_they_cover(client, world):
    deputy = world.who("b", "line_manager")
    assert _notes(client, deputy).status_code == 404
    handed = client.put("/api/v1/callbacks/deputy", headers=world.who("a", "line_manager")["headers"],
                        json={"deputy": deputy["username"]})
    assert handed.status_code == 200
    assert _notes(client, deputy).status_code == 200


def test_r9_the_callback_queue_page_shows_only_its_own_teams_notes_of_a_shared_case_reference(
        app, client, world, ring):
    handler_b = world.who("b", "call_handler")
    sid, _ = ring(from_="+447700900222")
    client.post(f"/api/v1/calls/{sid}/accept", headers=handler_b["headers"])
    client.post(f"/api/v1/calls/{sid}/warnings", headers=handler_b["headers"], json={"reason": "abuse"})
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=handler_b["headers"], json={
        "reason": "abuse", "case_reference": CASE_A, "note": {"query": "team B's own query"}})
    assert ended.status_code == 201
    session_sign_in(client, world.who("b", "line_manager"))
    page = client.get("/callbacks").get_data(as_text=True)
    assert "team B&#39;s own query" in page or "team B's own query" in page
    assert SECRET_QUERY not in page
    api = _notes(client, handler_b).get_json()["notes"]
    assert [n["fields"].get("query") for n in api] == ["team B's own query"]


# 10.3 proposals and call controls

@pytest.mark.parametrize("action", ["claim", "release", "dial", "cancel"])
def test_r9_another_teams_callback_task_is_404_exactly_like_one_that_does_not_exist(client, world, action):
    manager_b, task_id = world.who("b", "line_manager"), world.ids["task_id"]
    hidden = client.post(f"/api/v1/callbacks/{task_id}/{action}", headers=manager_b["headers"], json={"reason": "x"})
    missing = client.post(f"/api/v1/callbacks/987654/{action}", headers=manager_b["headers"], json={"reason": "x"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["error"]["message"].replace(str(task_id), "N") == \
        missing.get_json()["error"]["message"].replace("987654", "N")


def test_r9_a_manager_cannot_propose_on_another_teams_incident(client, world):
    body = {"incident_id": world.ids["incident_id"], "name": "A Person", "summary": "Shouted", "phones": []}
    other = client.post("/api/v1/register/proposals", headers=world.who("b", "line_manager")["headers"], json=body)
    unknown = client.post("/api/v1/register/proposals", headers=world.who("b", "line_manager")["headers"],
                          json={**body, "incident_id": 999999})
    assert other.status_code == unknown.status_code == 404
    assert other.get_json()["error"]["code"] == unknown.get_json()["error"]["code"] == "not_found"
    own = client.post("/api/v1/register/proposals", headers=world.who("a", "line_manager")["headers"],
                      json={**body, "phones": ["+447700900555"]})  # (the call's own number is on the register)
    assert own.status_code == 201, own.get_json()


def test_r9_the_propose_form_lists_only_incidents_the_manager_may_see(client, world):
    session_sign_in(client, world.who("b", "line_manager"))
    page = client.get("/register/propose").get_data(as_text=True)
    assert CASE_A not in page
    refused = client.post("/register/propose", data={"incident_id": str(world.ids["incident_id"]), "name": "A",
                                                     "summary": "B"})
    assert refused.status_code == 400 and "no incident" in refused.get_data(as_text=True)


def test_r9_a_refused_proposal_names_no_entry_of_the_register(client, world):
    manager = world.who("a", "line_manager")
    body = {"incident_id": world.ids["incident_id"], "name": "A Person", "summary": "Shouted", "phones": [CALLER_A]}
    refused = client.post("/api/v1/register/proposals", headers=manager["headers"], json=body)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "already_proposed"
    assert str(world.ids["entry_id"]) not in refused.get_json()["error"]["message"]


def test_r9_a_supervisor_of_another_team_cannot_warn_or_terminate_and_learns_nothing(client, world):
    sid, supervisor_b = world.ids["call_sid"], world.who("b", "supervisor")
    for path, body in (("warnings", {"reason": "abuse"}),
                       ("termination", {"reason": "abuse", "immediate_reason": "threat_of_violence"}),
                       ("need", {"need": "anxiety"})):
        hidden = client.post(f"/api/v1/calls/{sid}/{path}", headers=supervisor_b["headers"], json=body)
        missing = client.post(f"/api/v1/calls/CA{'f' * 32}/{path}", headers=supervisor_b["headers"], json=body)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.get_json()["error"]["message"].replace(sid, "X") == \
            missing.get_json()["error"]["message"].replace(f"CA{'f' * 32}", "X")
    ended = world.ids["ended_sid"]  # a repeated termination does not hand back another team's termination
    repeat = client.post(f"/api/v1/calls/{ended}/termination", headers=supervisor_b["headers"],
                         json={"reason": "abuse"})
    assert repeat.status_code == 404
    allowed = client.post(f"/api/v1/calls/{sid}/warnings", headers=world.who("a", "supervisor")["headers"],
                          json={"reason": "abuse"})
    assert allowed.status_code == 201


def test_r9_nobody_warns_or_terminates_a_call_that_is_still_ringing(client, world, ring):
    sid, _ = ring(from_="+447700900333")
    for key in ("a:supervisor", "b:supervisor"):
        warned = client.post(f"/api/v1/calls/{sid}/warnings", headers=world.people[key]["headers"],
                             json={"reason": "abuse"})
        ended = client.post(f"/api/v1/calls/{sid}/termination", headers=world.people[key]["headers"],
                            json={"reason": "abuse", "immediate_reason": "threat_of_violence"})
        assert warned.status_code == ended.status_code == 409
        assert warned.get_json()["error"]["code"] == ended.get_json()["error"]["code"] == "not_answered"


def test_a_supervisor_without_a_team_watches_and_acts_on_every_team(client, world, staff):
    area = staff.add("area_supervisor", "supervisor")
    assert client.post(f"/api/v1/calls/{world.ids['call_sid']}/warnings", headers=area["headers"],
                       json={"reason": "abuse"}).status_code == 201
    assert _notes(client, area).status_code == 200


# 10.4 caller look-ups

def test_r9_a_handler_looks_up_only_the_caller_on_their_own_call(app, client, world):
    handler = world.who("a", "call_handler")
    own = client.get(f"/api/v1/callers/{CALLER_A}", headers=handler["headers"])
    assert own.status_code == 200
    body = own.get_json()
    assert body["register"] == {"marker": 2, "precautions": "Two officers"}  # nothing else of the entry
    assert body["recent_calls"] == []
    other = client.get("/api/v1/callers/+447700900999", headers=handler["headers"])
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"
    elsewhere = client.get(f"/api/v1/callers/{CALLER_A}", headers=world.who("b", "call_handler")["headers"])
    assert elsewhere.status_code == 404
    refused = _audit(app, action="view_refused")
    assert [(actor, entity) for actor, _, entity, _, _ in refused] == [
        (handler["id"], "caller"), (world.who("b", "call_handler")["id"], "caller")]
    assert all(CALLER_A not in str(detail) for *_, detail in refused)  # masked, not the number


def test_r9_managers_look_any_number_up_but_see_only_their_teams_calls(client, world):
    mine = client.get(f"/api/v1/callers/{CALLER_A}", headers=world.who("a", "line_manager")["headers"]).get_json()
    theirs = client.get(f"/api/v1/callers/{CALLER_A}", headers=world.who("b", "line_manager")["headers"]).get_json()
    assert {c["call_sid"] for c in mine["recent_calls"]} == {world.ids["call_sid"], world.ids["ended_sid"]}
    assert theirs["recent_calls"] == [] and theirs["register"]["marker"] == 2
    panel = client.get(f"/api/v1/callers/{CALLER_A}", headers=world.who("a", "panel_member")["headers"]).get_json()
    assert panel["recent_calls"] == [] and panel["register"]["entry_id"] == theirs["register"]["entry_id"]


def test_r9_every_caller_look_up_is_audited_with_what_was_shown(app, client, world):
    for key in ("a:call_handler", "a:line_manager", "b:supervisor", "a:panel_member", "b:admin"):
        assert client.get(f"/api/v1/callers/{CALLER_A}", headers=world.people[key]["headers"]).status_code == 200
    rows = _audit(app, entity="customer", action="view")
    assert len(rows) == 5
    assert {detail["entry_id"] for *_, detail in rows} == {world.ids["entry_id"]}
    by_actor = {actor: detail["calls"] for actor, *_, detail in rows}
    assert by_actor[world.who("b", "supervisor")["id"]] == []
    assert len(by_actor[world.who("a", "line_manager")["id"]]) == 2


# 10.5 what each person was shown is logged by entry

def test_r9_list_views_log_each_entry_and_the_subject_access_export_finds_them(app, client, world):
    manager, panel = world.who("a", "line_manager"), world.who("a", "panel_member")
    assert client.get("/api/v1/register/entries", headers=manager["headers"]).status_code == 200
    client.get(f"/api/v1/callers/{CALLER_A}", headers=manager["headers"])
    export = client.get(f"/api/v1/register/customers/{world.ids['customer_id']}/export", headers=panel["headers"])
    log = export.get_json()["access_log"]
    listed = [row for row in log if row["entity"] == "register_entry" and row["detail"].get("via") == "register_list"]
    assert [row["actor_id"] for row in listed] == [manager["id"]]
    looked_up = [row for row in log if row["entity"] == "customer" and row["detail"].get("via") == "caller_flags"]
    assert [row["actor_id"] for row in looked_up] == [manager["id"]]


def test_r9_entries_listed_as_due_for_review_are_logged_on_the_api_and_the_page(app, client, world):
    from datetime import timedelta

    from call_flows.clock import utcnow
    from call_flows.models import RegisterEntry
    with app.app_context():
        entry = db_session().get(RegisterEntry, world.ids["entry_id"])
        entry.added_on = utcnow() - timedelta(days=200)  # R6: due for its 6-month review
        db_session().commit()
    panel = world.who("a", "panel_member")
    due = client.get("/api/v1/register/reviews/due", headers=panel["headers"]).get_json()["entries"]
    assert [row["id"] for row in due] == [world.ids["entry_id"]]
    session_sign_in(client, panel)
    assert client.get("/register").status_code == 200
    vias = [r[4].get("via") for r in _audit(app, entity="register_entry", actor_id=panel["id"])]
    assert vias.count("reviews_due") == 1 and vias.count("register_home") == 1


def test_r9_markers_on_the_board_are_logged_once_per_call_for_each_supervisor(app, client, world, ring):
    sid, _ = ring(from_=CALLER_A)  # rings with its marker
    supervisor = world.who("b", "supervisor")
    session_sign_in(client, supervisor)
    for _ in range(3):  # the board refetches on every event
        state = client.get("/board/state").get_json()
        assert any(card["call_sid"] == sid and card["marker"] == 2 for card in state["ringing"])
    rows = [r for r in _audit(app, entity="register_entry", actor_id=supervisor["id"]) if r[4].get("via") == "board"]
    assert [(r[1], r[3]) for r in rows] == [("view", world.ids["entry_id"])]


def test_r9_markers_of_ringing_calls_on_the_console_are_logged_once_per_call(app, client, world, ring):
    sid, _ = ring(from_=CALLER_A)
    handler = world.who("b", "call_handler")
    session_sign_in(client, handler)
    for _ in range(2):
        state = client.get("/console/state").get_json()
        assert any(card["call_sid"] == sid and card["marker"] == 2 for card in state["ringing"])
    rows = [r for r in _audit(app, entity="register_entry", actor_id=handler["id"]) if r[4].get("via") == "console"]
    assert [(r[1], r[3]) for r in rows] == [("view", world.ids["entry_id"])]


def test_r9_markers_on_the_callback_queue_are_logged(app, client, world, ring):
    add_marker(app, "+447700900444", marker=1, precautions="Written contact only")
    handler = world.who("a", "call_handler")
    sid, _ = ring(from_="+447700900444")
    with app.app_context():  # the marker as ring time saw it (the queue shows calls.ring_marker)
        from call_flows.models import Call
        db_session().query(Call).filter_by(call_sid=sid).update({"ring_marker": 1})
        db_session().commit()
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"],
                        json={"reason": "threats", "immediate_reason": "threat_of_violence"})
    assert ended.status_code == 201, ended.get_json()
    manager = world.who("a", "line_manager")
    session_sign_in(client, manager)
    assert "Register marker 1" in client.get("/callbacks").get_data(as_text=True)
    client.get("/callbacks")
    rows = [r for r in _audit(app, entity="register_entry", actor_id=manager["id"])
            if r[4].get("via") == "callback_queue"]
    assert len(rows) == 1  # two page loads, one row


def test_r9_live_streams_give_other_teams_events_only_as_bare_nudges(app, client, world):
    from app.events import publish

    sid = world.ids["call_sid"]
    streams = {}
    for key in ("b:call_handler", "b:supervisor", "a:call_handler", "a:supervisor"):
        viewer = app.test_client()
        session_sign_in(viewer, world.people[key])
        path = "/console/events" if key.endswith("call_handler") else "/board/events"
        app.config["SSE_LIFETIME_S"] = 30
        streams[key] = viewer.get(path, buffered=False)
        assert streams[key].status_code == 200
    publish(app, "call_warned", call_sid=sid, reason="abuse")
    publish(app, "call_ringing", call_sid="CA" + "9" * 32, caller="••••0999", marker=None)
    seen = {}
    for key, response in streams.items():
        chunks = iter(response.response)
        seen[key] = []
        while len(seen[key]) < 2:  # the two events, as they arrive (the stream itself lasts longer)
            chunk = next(chunks).decode()
            seen[key] += [line for line in chunk.splitlines() if line.startswith("data: ")]
        response.close()
    for key in ("b:call_handler", "b:supervisor"):
        assert seen[key][0] == 'data: {"kind": "call_warned"}' and sid not in "".join(seen[key])
        assert '"call_sid": "CA' + "9" * 32 in seen[key][1]  # a ringing call is everyone's
    for key in ("a:call_handler", "a:supervisor"):
        assert f'"call_sid": "{sid}"' in seen[key][0] and '"reason": "abuse"' in seen[key][0]
