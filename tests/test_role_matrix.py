"""The role matrix (issue 10 item 6; DOMAIN R9 least data per role), generated from the app's own URL map.

Every route declares who may use it, next to its view (app/access.py):

    @bp.get("/api/v1/things/<int:thing_id>")
    @roles_required("line_manager", "admin")    # API; pages write @page_roles(...): the same allow()
    def thing(thing_id): ...

`@public` opens a route to everyone; `@twilio_signed` declares a Twilio webhook. A route whose view
is not ours is one line in `app.access.ENDPOINTS` ("endpoint": PUBLIC). **Declaring a new route is
that one line.** A route that declares nothing fails `test_every_route_declares_who_may_use_it` (and is
refused at run time). If the route takes a URL argument not named in tests/access_world.py `World.ids`,
add the name there (a team A record's id, or any value).

Then every route is called with every method, as anonymous and as every role (call_handler,
line_manager, supervisor, panel_member, admin) of two teams, by bearer token and by browser session:
- signed out: a 401 JSON error under /api/, the sign-in page for pages, 403 for unsigned webhooks;
- a role the route does not declare: 403 (`forbidden` JSON under /api/, the 403 page elsewhere);
- a declared role: never refused for its role (no 401, no `forbidden`, no 403 page);
- R9: nobody outside team A (other than administrators) is ever shown team A's case notes, incident
  details, case reference or CallSids, whatever route they call; nothing ever answers a 5xx.
"""
import pytest

from app.access import ENDPOINTS, PUBLIC, policy_for
from call_flows.models import ROLES
from tests.access_world import build, session_sign_in

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SEES_TEAM_A = {"a:line_manager", "a:supervisor", "a:admin", "b:admin", "a:call_handler"}


def undeclared(app) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if policy_for(app, rule.endpoint) is None})


def routes(app) -> list[tuple[str, str, object]]:
    """(endpoint, method, rule) for every rule and method in the URL map, logout last (it ends a session)."""
    found = [(rule.endpoint, method, rule) for rule in app.url_map.iter_rules()
             for method in sorted(rule.methods) if method in METHODS]
    return sorted(found, key=lambda r: (r[0] == "pages.logout", r[2].rule, r[1]))


def test_every_route_declares_who_may_use_it(app):
    assert undeclared(app) == [], "declare each route's policy (see this module's docstring)"


def test_a_route_without_a_declaration_fails_the_check_and_is_refused_at_run_time(database_url):
    from tests.conftest import make_app

    fresh = make_app(database_url)
    fresh.add_url_rule("/new/undeclared", "new_undeclared", lambda: "secret")
    try:
        assert undeclared(fresh) == ["new_undeclared"]
        assert fresh.test_client().get("/new/undeclared").status_code == 403
        ENDPOINTS["new_undeclared"] = PUBLIC  # the one-line declaration
        assert undeclared(fresh) == [] and fresh.test_client().get("/new/undeclared").status_code == 200
    finally:
        ENDPOINTS.pop("new_undeclared", None)
        fresh.extensions["engine"].dispose()


def _url(rule, ids) -> str:
    """The rule's own URL, its arguments filled with team A's records (World.ids, by argument name)."""
    return rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)[1]


def _call(client, method, url, headers):
    kwargs = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json" if url.startswith("/api/") else "data"] = {}
    response = client.open(url, method=method, **kwargs)
    streaming = response.mimetype == "text/event-stream"
    body = "" if streaming else response.get_data(as_text=True)
    response.close()
    return response, body


def _identities(app, world):
    """(label, team:role key or None, client, headers): anonymous, then each person by token and by session;
    team B and the panel first, so team A's own actions cannot hide a leak."""
    yield "anonymous", None, app.test_client(), {}
    order = sorted(world.people, key=lambda key: (key.startswith("a:"), key))
    for key in order:
        who = world.people[key]
        yield f"{key} token", key, app.test_client(), who["headers"]
        browser = app.test_client()
        yield f"{key} session", key, browser, session_sign_in(browser, who)


def _check(policy, key, url, response, body) -> str | None:
    status = response.status_code
    api, twilio = url.startswith("/api/"), url.startswith("/twilio/")
    if status >= 500:
        return f"answered {status}"
    if api and not response.is_json:
        return f"answered {response.mimetype} under /api/"
    if policy.kind == "twilio":
        return None if status == 403 else f"an unsigned webhook answered {status}"
    if policy.kind == "public":
        return None
    role = key.split(":")[1] if key else None
    if role is None:
        if api:
            ok = status == 401 and response.get_json()["error"]["code"] == "unauthorised"
        else:
            ok = status == 302 and "/login" in response.headers["Location"]
        return None if ok else f"signed out, answered {status}"
    code = response.get_json().get("error", {}).get("code") if api and response.is_json and status >= 400 else None
    if not policy.admits(role):
        ok = status == 403 and (code == "forbidden" if api else True)
        return None if ok else f"{role} is not declared, answered {status} {code}"
    # On pages the role guard answers its own 403 page; a 403 on the record's own page is a rule's refusal
    # (e.g. I3: only the staff member signs their record), which the API tells apart by its error code.
    role_guard_page = not api and not twilio and status == 403 and b"This page is not available to you" in response.data
    if status == 401 or code == "forbidden" or role_guard_page:
        return f"{role} is declared, yet refused: {status} {code}"
    if not api and status == 302 and "/login" in response.headers.get("Location", ""):
        return f"{role} is declared, yet sent to sign in"
    return None


@pytest.fixture
def world(app, client, staff, ring):
    app.config["SSE_LIFETIME_S"] = 0.05
    return build(app, client, staff, ring)


def test_r9_role_matrix_every_route_every_role_two_teams_token_and_session(app, world):
    problems = []
    calls = 0
    table = routes(app)
    for label, key, client, headers in _identities(app, world):
        for endpoint, method, rule in table:
            policy = policy_for(app, endpoint)
            url = _url(rule, world.ids)
            response, body = _call(client, method, url, headers)
            calls += 1
            problem = _check(policy, key, url, response, body)
            if problem:
                problems.append(f"{method} {url} as {label}: {problem}")
            if key not in SEES_TEAM_A and key is not None:
                shown = [s for s in world.secrets if s in body and s not in url]  # not an echo of the request
                if shown:
                    problems.append(f"{method} {url} as {label} showed team A's {shown}")
    assert problems == [], "\n".join(problems)
    assert calls == len(table) * (1 + 2 * len(ROLES) * 2)  # every route, every identity
