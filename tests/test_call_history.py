"""Issue 14.1: GET /api/v1/calls (CONTRACT call history): newest first, paged, filtered by phone in any
format (E.164), case reference, dates, team and (R9, audited) a register name; scoped as the single
call is: a line manager or supervisor sees their teams' calls, an admin every call; others 403."""
import pytest
from sqlalchemy import select

from call_flows.calls import history as call_history
from call_flows.models import AuditLog, RegisterEntry
from app.db import db_session
from tests.page_helpers import accept, add_marker


@pytest.fixture
def two_teams(client, ring, team, staff):
    south = {"handler": staff.add("handler2", "call_handler", team="Passports South"),
             "manager": staff.add("manager2", "line_manager", team="Passports South"),
             "supervisor": staff.add("supervisor2", "supervisor", team="Passports South")}
    calls = {"north": [], "south": []}
    for number, side, who in (("07700 900111", "north", team), ("07700 900222", "south", south),
                              ("07700 900111", "north", team), ("+44 7700 900333", "south", south)):
        sid, _ = ring(number)
        accept(client, sid, who["handler"])
        calls[side].append(sid)
    return {"north": team, "south": south, "calls": calls, "admin": staff.add("admin", "admin"),
            "panel": staff.add("panel", "panel_member", team="Passports North"),
            "all_supervisor": staff.add("watcher", "supervisor")}


def _sids(client, who, query=""):
    response = client.get(f"/api/v1/calls{query}", headers=who["headers"])
    assert response.status_code == 200, response.get_json()
    return [call["call_sid"] for call in response.get_json()["calls"]]


def test_r9_history_is_scoped_to_the_viewers_teams_for_every_role(client, two_teams):
    north, south = two_teams["calls"]["north"], two_teams["calls"]["south"]
    everything = [south[1], north[1], south[0], north[0]]  # newest first
    assert _sids(client, two_teams["north"]["manager"]) == north[::-1]
    assert _sids(client, two_teams["north"]["supervisor"]) == north[::-1]
    assert _sids(client, two_teams["south"]["manager"]) == south[::-1]
    assert _sids(client, two_teams["south"]["supervisor"]) == south[::-1]
    assert _sids(client, two_teams["admin"]) == everything
    assert _sids(client, two_teams["all_supervisor"]) == everything  # a supervisor without a team: every team
    for who in (two_teams["north"]["handler"], two_teams["south"]["handler"], two_teams["panel"]):
        response = client.get("/api/v1/calls", headers=who["headers"])
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/calls").status_code == 401


def test_history_answers_each_call_as_the_single_call_without_its_lists(client, two_teams):
    first = client.get("/api/v1/calls", headers=two_teams["admin"]["headers"]).get_json()["calls"][0]
    single = client.get(f"/api/v1/calls/{first['call_sid']}", headers=two_teams["admin"]["headers"]).get_json()
    del single["warnings"], single["termination"]
    assert first == single


@pytest.mark.parametrize("written", ["07700 900111", "+447700900111", "0044 7700 900111", "(07700) 900-111"])
def test_phone_in_any_format_is_matched_as_e164(client, two_teams, written):
    from urllib.parse import quote

    assert _sids(client, two_teams["admin"], f"?phone={quote(written)}") == two_teams["calls"]["north"][::-1]


def test_a_phone_that_is_not_a_number_is_a_400_invalid_phone(client, two_teams):
    response = client.get("/api/v1/calls?phone=12ab", headers=two_teams["admin"]["headers"])
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_phone"


def test_history_pages_newest_first_until_next_page_is_null(client, two_teams, monkeypatch):
    monkeypatch.setattr(call_history, "PAGE_SIZE", 3)
    admin = two_teams["admin"]
    first = client.get("/api/v1/calls", headers=admin["headers"]).get_json()
    assert first["next_page"] == 2 and len(first["calls"]) == 3
    second = client.get("/api/v1/calls?page=2", headers=admin["headers"]).get_json()
    assert second["next_page"] is None and len(second["calls"]) == 1
    seen = [c["call_sid"] for c in first["calls"] + second["calls"]]
    assert seen == [two_teams["calls"][s][i] for s, i in (("south", 1), ("north", 1), ("south", 0), ("north", 0))]
    for bad in ("0", "x", "-1"):
        response = client.get(f"/api/v1/calls?page={bad}", headers=admin["headers"])
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_input"


def test_team_filter_and_a_team_outside_view_is_404(client, two_teams):
    admin, manager = two_teams["admin"], two_teams["north"]["manager"]
    assert _sids(client, admin, "?team=Passports%20South") == two_teams["calls"]["south"][::-1]
    assert _sids(client, manager, "?team=Passports%20North") == two_teams["calls"]["north"][::-1]
    response = client.get("/api/v1/calls?team=Passports%20South", headers=manager["headers"])
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_since_and_until_bound_the_start_time(client, two_teams):
    admin = two_teams["admin"]
    assert len(_sids(client, admin, "?since=2000-01-01&until=2999-12-31")) == 4
    assert _sids(client, admin, "?until=2000-01-01") == []
    assert _sids(client, admin, "?since=2999-01-01T00:00:00") == []
    response = client.get("/api/v1/calls?since=yesterday", headers=admin["headers"])
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_input"


def test_case_reference_finds_the_terminated_call(client, two_teams):
    north = two_teams["north"]
    sid = two_teams["calls"]["north"][1]
    client.post(f"/api/v1/calls/{sid}/warnings", headers=north["handler"]["headers"], json={"reason": "abuse"})
    client.post(f"/api/v1/calls/{sid}/termination", headers=north["handler"]["headers"],
                json={"reason": "abuse", "case_reference": "APP-1234"})
    assert _sids(client, north["manager"], "?case_reference=APP-1234") == [sid]
    assert _sids(client, two_teams["south"]["manager"], "?case_reference=APP-1234") == []


def test_r9_a_register_name_search_finds_the_persons_calls_and_is_audited(app, client, two_teams):
    add_marker(app, "+447700900111", marker=2)  # add_marker names the person "A Caller"
    manager = two_teams["north"]["manager"]
    assert _sids(client, manager, "?name=a%20caller") == two_teams["calls"]["north"][::-1]
    with app.app_context():
        session = db_session()
        entry_id = session.scalar(select(RegisterEntry.id))
        rows = session.execute(select(AuditLog.action, AuditLog.entity, AuditLog.entity_id)
                               .where(AuditLog.actor_id == manager["id"])).all()
    assert ("view", "register_entry", entry_id) in rows and ("search", "register_name", None) in rows


def test_openapi_describes_the_history_and_its_filters(client):
    op = client.get("/openapi.json").get_json()["paths"]["/calls"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"phone", "case_reference", "name", "since", "until", "team",
                                                     "page"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/CallHistoryOut")


def test_r9_a_name_is_matched_exactly_never_as_a_pattern(app, client, two_teams):
    add_marker(app, "+447700900111", marker=2)  # "A Caller"
    manager = two_teams["north"]["manager"]
    for pattern in ("%25", "A%25", "_%20Caller", "A%20C_ller"):  # %, A%, "_ Caller", "A C_ller"
        assert _sids(client, manager, f"?name={pattern}") == [], pattern


@pytest.mark.parametrize("query", ["case_reference=a%00b", "name=x%00", "team=" + "t" * 201])
def test_a_nul_or_overlong_search_term_is_a_400_not_a_server_error(client, two_teams, query):
    response = client.get(f"/api/v1/calls?{query}", headers=two_teams["admin"]["headers"])
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=100001"])
def test_a_page_outside_1_to_100000_is_refused_by_the_search_model(client, two_teams, query):
    response = client.get(f"/api/v1/calls?{query}", headers=two_teams["admin"]["headers"])
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith("page: ")
