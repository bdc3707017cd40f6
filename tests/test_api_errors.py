"""Issue 9 item 12 (CONTRACT conventions): every response under /api/ is the JSON error shape whatever
raised it; ids beyond what an id column holds (2^31-1) are a 404 on every route (JSON under /api/, TwiML under /twilio/); an
unauthenticated request is a 401 whatever its method. Routes are enumerated from the URL map."""
import re
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.access import ENDPOINTS, PUBLIC
from app.routing import MAX_ID, digits_at_most
from tests.access_world import session_sign_in
from tests.conftest import make_app

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SAMPLE = {"username": "nobody", "phone": "+447700900123", "call_sid": "CA" + "0" * 32, "reference": "REF-1", "key": "recovery_minutes",
          "name": "weekly", "filename": "callguard.css"}


def _error(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:200])
    assert response.is_json, response.mimetype
    error = response.get_json()["error"]
    assert set(error) == {"code", "message"} and error["message"]
    if code:
        assert error["code"] == code, error


def _int_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if any(type(conv).__name__ == "BoundedInt" for conv in rule._converters.values())]


def _build(rule, int_value):
    values = {name: (int_value if name in _int_args(rule) else SAMPLE[name]) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def _int_args(rule):
    return {name for name, conv in rule._converters.items() if type(conv).__name__ == "BoundedInt"}


@given(st.integers(min_value=0, max_value=2**70) | st.integers(min_value=MAX_ID - 10**6, max_value=MAX_ID + 10**6))
def test_the_id_pattern_matches_exactly_the_ids_up_to_max_id(n):
    pattern = re.compile(digits_at_most(MAX_ID) + r"\Z")
    assert bool(pattern.match(str(n))) == (n <= MAX_ID)
    assert bool(pattern.match("00" + str(n))) == (n <= MAX_ID)


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/nope", "/api/v2/calls", "/api/v1/callbacks/",
                                  "/api/v1/incidents/abc", "/api/"])
def test_unknown_paths_under_api_are_json_404s(client, team, path):
    _error(client.get(path, headers=team["manager"]["headers"]), 404, "not_found")
    _error(client.get(path), 404, "not_found")


def test_every_api_route_answers_a_json_405_for_a_method_it_does_not_take(app, client, team):
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        url = _build(rule, 1)
        for method in METHODS:
            try:
                adapter.match(url, method=method)
            except MethodNotAllowed:
                response = client.open(url, method=method, headers=team["manager"]["headers"])
                _error(response, 405, "method_not_allowed")
                assert method not in response.headers["Allow"]
                checked += 1
            except NotFound:
                pass
    assert checked > 40  # every API route has methods it refuses


@pytest.mark.parametrize("huge", [MAX_ID + 1, 2**63, 99999999999999999999999999])
def test_out_of_range_ids_are_404_on_every_route(app, client, team, staff, huge):
    admin = staff.add("admin_x", "admin")
    browser = app.test_client()
    session_sign_in(browser, admin)
    rules = _int_rules(app)
    assert len(rules) >= 20
    for rule in rules:
        url = _build(rule, huge)
        for method in sorted(rule.methods & set(METHODS)):
            if rule.rule.startswith("/api/"):
                _error(client.open(url, method=method, headers=admin["headers"]), 404, "not_found")
                _error(client.open(url, method=method), 404, "not_found")
            elif rule.rule.startswith("/twilio/"):
                response = client.open(url, method=method, data={"CallSid": "CA1"})
                assert response.status_code == 404 and response.mimetype == "text/xml", url
                assert ElementTree.fromstring(response.get_data()).tag == "Response"
            else:
                assert browser.open(url, method=method).status_code == 404, url


def test_the_largest_id_still_routes_and_is_an_ordinary_not_found(app, client, team, staff):
    admin = staff.add("admin_y", "admin")
    adapter = app.url_map.bind("localhost")
    for rule in _int_rules(app):
        adapter.match(_build(rule, MAX_ID), method=sorted(rule.methods & set(METHODS))[0])  # no NotFound
    response = client.get(f"/api/v1/incidents/{MAX_ID}", headers=admin["headers"])
    _error(response, 404, "not_found")


@pytest.mark.parametrize("huge", [MAX_ID + 1, 10**26])
def test_out_of_range_ids_in_bodies_forms_and_queries_are_4xx_never_500(app, client, team, huge):
    body = {"incident_id": huge, "name": "A", "summary": "B", "phones": []}
    _error(client.post("/api/v1/register/proposals", headers=team["manager"]["headers"], json=body), 400,
           "invalid_input")
    session_sign_in(client, team["manager"])
    page = client.post("/register/propose", data={"incident_id": str(huge), "name": "A", "summary": "B"})
    assert page.status_code == 400 and "must be a number" in page.get_data(as_text=True)
    session_sign_in(client, team["supervisor"])
    assert client.get(f"/trends?team={huge}").status_code == 200


@pytest.fixture
def csrf_app(database_url):
    """CSRF on, as in production (the suite's default app turns it off for form tests)."""
    application = make_app(database_url, WTF_CSRF_ENABLED=True)
    yield application
    application.extensions["engine"].dispose()


def test_unauthenticated_is_401_whatever_the_method_on_every_api_route(csrf_app):
    client = csrf_app.test_client()
    checked, expected = 0, 0
    for rule in csrf_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        url = _build(rule, 1)
        for method in sorted(rule.methods & set(METHODS)):
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                _error(client.open(url, method=method, headers=headers, json={}), 401, "unauthorised")
                checked += 1
        expected += 2 * len(rule.methods & set(METHODS))
    assert checked == expected > 80


def test_a_signed_in_browser_without_the_csrf_token_is_refused_and_with_it_passes(csrf_app):
    from app.cli.users_cmd import add_user
    from app.db import db_session

    with csrf_app.app_context():
        session = db_session()
        user, _ = add_user(session, "boss", "line_manager", None, "Team", None, "GB")
        session.commit()
        who = {"id": user.id, "username": "boss"}
    client = csrf_app.test_client()
    headers = session_sign_in(client, who)
    _error(client.put("/api/v1/callbacks/deputy", json={"deputy": None}), 400)
    assert client.put("/api/v1/callbacks/deputy", json={"deputy": None}, headers=headers).status_code == 200


def test_a_request_too_large_is_a_json_413(client, team):
    response = client.post("/api/v1/register/proposals", headers=team["manager"]["headers"],
                           data=b"{" + b" " * (3 * 1024 * 1024) + b"}", content_type="application/json")
    _error(response, 413, "request_too_large")


def test_an_unexpected_fault_under_api_is_a_json_500(database_url):
    application = make_app(database_url, PROPAGATE_EXCEPTIONS=False, TESTING=False)

    def boom():
        raise RuntimeError("a bug")

    application.add_url_rule("/api/v1/test-boom", "test_boom", boom)
    ENDPOINTS["test_boom"] = PUBLIC
    try:
        _error(application.test_client().get("/api/v1/test-boom"), 500, "internal_error")
    finally:
        ENDPOINTS.pop("test_boom")
        application.extensions["engine"].dispose()


@pytest.mark.parametrize("body", [None, {}, {"deputy": "x" * 81}])
def test_put_deputy_without_its_field_is_400_and_keeps_the_deputy(app, client, team, staff, body):
    staff.add("stand_in", "line_manager", team="Passports North")
    assert client.put("/api/v1/callbacks/deputy", headers=team["manager"]["headers"],
                      json={"deputy": "stand_in"}).status_code == 200
    if body is None:
        response = client.put("/api/v1/callbacks/deputy", headers=team["manager"]["headers"])
    else:
        response = client.put("/api/v1/callbacks/deputy", headers=team["manager"]["headers"], json=body)
    _error(response, 400, "invalid_input")
    from app.db import db_session
    from call_flows.models import User
    with app.app_context():
        manager = db_session().get(User, team["manager"]["id"])
        assert manager.deputy_id is not None  # still handed to stand_in


def test_the_deputy_form_without_a_choice_changes_nothing(app, client, team, staff):
    staff.add("stand_in", "line_manager", team="Passports North")
    client.put("/api/v1/callbacks/deputy", headers=team["manager"]["headers"], json={"deputy": "stand_in"})
    session_sign_in(client, team["manager"])
    page = client.post("/callbacks/deputy", data={}, follow_redirects=True)
    assert "Choose a deputy" in page.get_data(as_text=True)
    from app.db import db_session
    from call_flows.models import User
    with app.app_context():
        assert db_session().get(User, team["manager"]["id"]).deputy_id is not None
