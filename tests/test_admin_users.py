"""Issue 14.2 and 14.4: users and teams in the browser (/admin/users) and changing one's own password
(/account/password). Page tests through the test client; sessions and tokens end as call_flows.staff.accounts
says."""
import re

from sqlalchemy import select

from app.db import db_session
from call_flows.staff import passwords
from call_flows.models import Team, User
from tests.callback_helpers import terminated_call
from tests.page_helpers import sign_in

STRONG = "amber-walrus-kettle-9"
CALLERS = "/api/v1/callers/+447700900999"  # any signed-in look-up: 401 only when nobody is signed in


def _user(app, username) -> User:
    with app.app_context():
        session = db_session()
        user = session.scalar(select(User).where(User.username == username))
        session.expunge(user)
        return user


def _admin(app, client, staff):
    created = staff.add("root", "admin")
    sign_in(app, client, "root")
    return created


def test_14_2_admin_lists_users_by_display_name_and_others_are_refused(app, client, staff, team):
    staff.add("sam", "line_manager", team="Passports North")
    with app.app_context():
        session = db_session()
        session.scalar(select(User).where(User.username == "sam")).display_name = "Sam Patel"
        session.commit()
    sign_in(app, client, "manager")
    assert client.get("/admin/users").status_code == 403
    _admin(app, client, staff)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Sam Patel" in page and ">sam<" in page and "Passports North" in page


def test_14_2_admin_creates_a_user_with_name_team_site_manager_and_the_token_is_shown_once(app, client, staff, team):
    _admin(app, client, staff)
    response = client.post("/admin/users", data={
        "username": "jo", "display_name": "Jo Bloggs", "role": "call_handler", "team": "Passports South",
        "site": "Durham", "manager": "manager", "deputy": "", "phone": "07700 900555"})
    assert response.status_code == 201
    token = re.search(r'<code class="token">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    jo = _user(app, "jo")
    assert (jo.display_name, jo.role, jo.phone, jo.manager_id) == ("Jo Bloggs", "call_handler", "+447700900555",
                                                                   team["manager"]["id"])
    with app.app_context():
        assert db_session().scalar(select(Team.site).where(Team.name == "Passports South")) == "Durham"
    assert client.get(CALLERS, headers={"Authorization": f"Bearer {token}"}).status_code != 401
    assert token not in client.get("/admin/users").get_data(as_text=True)  # shown once only


def test_14_2_bad_input_is_refused_and_nothing_is_stored(app, client, staff, team):
    _admin(app, client, staff)
    cases = [({"username": "manager", "role": "call_handler"}, "already exists"),
             ({"username": "x", "role": "emperor"}, "role must be one of"),
             ({"username": "x", "role": "call_handler", "manager": "nobody"}, "manager must be"),
             ({"username": "x", "role": "call_handler", "deputy": "handler"}, "deputy must be"),
             ({"username": "x", "role": "call_handler", "phone": "not a number"}, ""),
             ({"username": "x y", "role": "call_handler"}, "no spaces"),
             ({"username": "x", "role": "call_handler", "site": "Leeds"}, "name the team")]
    for data, message in cases:
        response = client.post("/admin/users", data=data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db_session().scalar(select(User).where(User.username.in_(("x", "x y")))) is None


def test_14_2_admin_edits_manager_deputy_team_and_display_name(app, client, staff, team):
    staff.add("cover", "line_manager", team="Passports North")
    _admin(app, client, staff)
    manager = team["manager"]["id"]
    response = client.post(f"/admin/users/{manager}", data={
        "display_name": "Sam Patel", "role": "line_manager", "team": "Passports North", "site": "Leeds",
        "manager": "", "deputy": "cover", "phone": "+447700900001"})
    assert response.status_code == 302
    saved = _user(app, "manager")
    assert saved.display_name == "Sam Patel" and saved.deputy_id == _user(app, "cover").id
    own = client.post(f"/admin/users/{manager}", data={"role": "line_manager", "deputy": "manager"})
    assert own.status_code == 400 and "own deputy" in own.get_data(as_text=True)
    assert _user(app, "manager").deputy_id == saved.deputy_id  # the refused edit changed nothing


def test_14_2_deactivate_ends_every_session_and_the_token(app, client, staff, team):
    _admin(app, client, staff)
    browser = app.test_client()
    sign_in(app, browser, "handler")
    assert browser.get(CALLERS).status_code != 401
    response = client.post(f"/admin/users/{team['handler']['id']}/deactivate")
    assert response.status_code == 302
    assert browser.get(CALLERS).status_code == 401
    assert client.get(CALLERS, headers=team["handler"]["headers"]).status_code == 401
    assert not _user(app, "handler").active


def test_14_2_an_admin_cannot_deactivate_themselves(app, client, staff):
    admin = _admin(app, client, staff)
    response = client.post(f"/admin/users/{admin['id']}/deactivate")
    assert response.status_code == 403 and _user(app, "root").active


def test_14_2_reset_password_applies_the_policy_and_ends_their_sessions(app, client, staff, team):
    _admin(app, client, staff)
    browser = app.test_client()
    sign_in(app, browser, "handler")
    weak = client.post(f"/admin/users/{team['handler']['id']}/password", data={"password": "password1234"})
    assert weak.status_code == 400 and "common" in weak.get_data(as_text=True)
    assert browser.get(CALLERS).status_code != 401  # a refused reset changes nothing
    ok = client.post(f"/admin/users/{team['handler']['id']}/password", data={"password": STRONG})
    assert ok.status_code == 302
    assert passwords.verify(_user(app, "handler").password_hash, STRONG)
    assert browser.get(CALLERS).status_code == 401


def test_14_2_new_api_token_replaces_the_old_one_and_is_refused_for_a_deactivated_user(app, client, staff, team):
    _admin(app, client, staff)
    response = client.post(f"/admin/users/{team['handler']['id']}/token")
    assert response.status_code == 200
    token = re.search(r'<code class="token">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert client.get(CALLERS, headers=team["handler"]["headers"]).status_code == 401
    assert client.get(CALLERS, headers={"Authorization": f"Bearer {token}"}).status_code != 401
    client.post(f"/admin/users/{team['handler']['id']}/deactivate")
    refused = client.post(f"/admin/users/{team['handler']['id']}/token")
    assert refused.status_code == 403 and '<code class="token">' not in refused.get_data(as_text=True)


def test_14_2_admin_sees_every_teams_queue_and_reassigns_a_task(app, client, staff, team):
    south = staff.add("southmgr", "line_manager", team="Passports South")
    t = terminated_call(app, client, team["handler"], case_reference="HMPO-REASSIGN-1")
    _admin(app, client, staff)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "HMPO-REASSIGN-1" in page and "Claim case" not in page  # read-only: no claim or outcome controls
    response = client.post(f"/admin/callbacks/{t['callback_task_id']}/reassign", data={"manager": "southmgr"})
    assert response.status_code == 302
    queue = client.get("/api/v1/callbacks", headers=south["headers"]).get_json()["callbacks"]
    assert [c["case_reference"] for c in queue] == ["HMPO-REASSIGN-1"]
    bad = client.post(f"/admin/callbacks/{t['callback_task_id']}/reassign", data={"manager": "handler"})
    assert bad.status_code == 400 and "active line manager" in bad.get_data(as_text=True)


def test_14_4_change_own_password_needs_the_current_one_and_ends_other_sessions(app, client, staff, team):
    sign_in(app, client, "handler")  # password "pw-for-tests"
    other = app.test_client()
    sign_in(app, other, "handler")
    assert client.get("/account/password").status_code == 200
    wrong = client.post("/account/password", data={"current_password": "nope", "new_password": STRONG,
                                                   "confirm_password": STRONG})
    assert wrong.status_code == 400 and "current password" in wrong.get_data(as_text=True)
    weak = client.post("/account/password", data={"current_password": "pw-for-tests",
                                                  "new_password": "handler12345", "confirm_password": "handler12345"})
    assert weak.status_code == 400
    differ = client.post("/account/password", data={"current_password": "pw-for-tests", "new_password": STRONG,
                                                    "confirm_password": STRONG + "x"})
    assert differ.status_code == 400
    assert other.get(CALLERS).status_code != 401  # refusals changed nothing
    ok = client.post("/account/password", data={"current_password": "pw-for-tests", "new_password": STRONG,
                                                "confirm_password": STRONG})
    assert ok.status_code == 302
    assert client.get(CALLERS).status_code != 401  # this session continues
    assert other.get(CALLERS).status_code == 401  # the other one ended
    assert passwords.verify(_user(app, "handler").password_hash, STRONG)


def test_14_4_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/account/password").status_code == 302
    assert client.post("/account/password", data={}).status_code == 302


def test_14_4_no_local_password_is_told_to_use_single_sign_on(app, client, staff):
    staff.add("sso", "supervisor")
    sign_in(app, client, "sso")
    with app.app_context():
        session = db_session()
        session.scalar(select(User).where(User.username == "sso")).password_hash = None
        session.commit()
    response = client.post("/account/password", data={"current_password": "", "new_password": STRONG,
                                                      "confirm_password": STRONG})
    assert response.status_code == 409 and "single sign-on" in response.get_data(as_text=True)



def test_14_2_a_refused_edit_shows_what_was_typed_and_the_model_refuses_before_the_service(app, client, staff, team):
    _admin(app, client, staff)
    handler = team["handler"]["id"]
    response = client.post(f"/admin/users/{handler}", data={"role": "call_handler", "display_name": "Typed Name",
                                                            "site": "Leeds"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "name the team" in page and 'value="Typed Name"' in page
    assert _user(app, "handler").display_name != "Typed Name"
    long = client.post(f"/admin/users/{handler}", data={"role": "call_handler", "display_name": "x" * 121})
    assert long.status_code == 400 and "display_name is longer than 120 characters" in long.get_data(as_text=True)
