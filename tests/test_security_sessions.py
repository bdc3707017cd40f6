"""Issue 10.8 and 10.9: server-side sessions that end, API tokens that rotate, expire and are revoked,
and the password policy. Time moves with time-machine, per test."""
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.db import db_session
from call_flows.staff import passwords
from call_flows.clock import utcnow
from call_flows.errors import InvalidInput
from call_flows.models import StaffSession, User
from tests.page_helpers import sign_in

CALLERS = "/api/v1/callers/+447700900999"


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie (what a thief would have)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client) -> bool:
    """Signed in: the API knows who is asking (a look-up of a number not on amy's call is a 404, R9)."""
    return client.get(CALLERS).status_code != 401


def test_10_8_logout_ends_the_session_for_every_copy_of_the_cookie(app, client, staff):
    staff.add("amy", "call_handler")
    sign_in(app, client, "amy")
    thief = copy_of(app, client)
    assert signed_in(thief)
    assert client.post("/logout").status_code == 302
    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/console").status_code == 302  # pages send it to sign in


def test_10_8_session_ends_after_the_idle_timeout_and_activity_keeps_it(app, client, staff):
    staff.add("amy", "call_handler")
    with time_machine.travel(utcnow(), tick=False) as clock:
        sign_in(app, client, "amy")
        clock.shift(timedelta(minutes=29))
        assert signed_in(client)  # used: the idle clock starts again
        clock.shift(timedelta(minutes=29))
        assert signed_in(client)
        clock.shift(timedelta(minutes=31))
        assert not signed_in(client)


def test_10_8_idle_timeout_is_configurable(database_url, configured_app):
    application = configured_app(SESSION_IDLE_TIMEOUT=timedelta(minutes=5))
    client = application.test_client()
    _add_handler(application)
    with time_machine.travel(utcnow(), tick=False) as clock:
        sign_in(application, client, "amy")
        clock.shift(timedelta(minutes=6))
        assert not signed_in(client)


def test_10_8_session_ends_at_the_absolute_timeout_however_busy(app, client, staff):
    staff.add("amy", "call_handler")
    with time_machine.travel(utcnow(), tick=False) as clock:
        sign_in(app, client, "amy")
        for _ in range(11 * 3):  # every 20 minutes for 11 hours
            clock.shift(timedelta(minutes=20))
            assert signed_in(client)
        clock.shift(timedelta(hours=1, minutes=1))
        assert not signed_in(client)


def test_10_8_an_admin_revokes_every_session_of_a_user(app, client, staff):
    amy = staff.add("amy", "call_handler")
    admin = staff.add("boss", "admin")
    sign_in(app, client, "amy")
    other_browser = app.test_client()
    sign_in(app, other_browser, "amy")
    assert client.delete("/api/v1/users/amy/sessions", headers=amy["headers"]).status_code == 403  # no admin
    response = client.delete("/api/v1/users/amy/sessions", headers=admin["headers"])
    assert response.status_code == 200 and response.get_json()["sessions_ended"] == 2
    assert not signed_in(client) and not signed_in(other_browser)
    assert client.delete("/api/v1/users/nobody/sessions", headers=admin["headers"]).status_code == 404


def test_10_8_signing_in_starts_a_new_session_record(app, client, staff):
    staff.add("amy", "call_handler")
    sign_in(app, client, "amy")
    before = client.get_cookie("session").value
    sign_in(app, client, "amy")
    assert client.get_cookie("session").value != before
    with app.app_context():
        rows = db_session().scalars(select(StaffSession)).all()
        assert len(rows) == 2 and all(len(r.secret_hash) == 64 for r in rows)


def test_10_8_csrf_tokens_expire_with_the_session_limit(configured_app):
    application = configured_app(WTF_CSRF_ENABLED=True)
    client = application.test_client()
    _add_handler(application)
    with time_machine.travel(utcnow(), tick=False) as clock:
        client.get("/login")
        token = _csrf(client)
        clock.shift(timedelta(hours=12, minutes=1))
        late = client.post("/login", data={"csrf_token": token, "username": "amy", "password": "pw-for-tests"})
        assert late.status_code == 400
        client.get("/login")
        fresh = client.post("/login", data={"csrf_token": _csrf(client), "username": "amy",
                                             "password": "pw-for-tests"})
        assert fresh.status_code == 302


def test_10_8_old_session_records_are_deleted_at_the_next_sign_in(app, client, staff):
    staff.add("amy", "call_handler")
    with time_machine.travel(utcnow(), tick=False) as clock:
        sign_in(app, client, "amy")
        clock.shift(timedelta(days=31))
        sign_in(app, client, "amy")
    with app.app_context():
        assert len(db_session().scalars(select(StaffSession)).all()) == 1


def test_10_9_users_token_rotates_and_the_old_token_stops_at_once(app, runner, client, staff):
    old = staff.add("amy", "call_handler")
    result = runner.invoke(args=["users", "token", "amy"])
    assert result.exit_code == 0
    new = result.output.strip().splitlines()[-1]
    assert client.get(CALLERS, headers=old["headers"]).status_code == 401
    assert client.get(CALLERS, headers={"Authorization": f"Bearer {new}"}).status_code != 401
    assert runner.invoke(args=["users", "token", "nobody"]).exit_code != 0


def test_10_9_a_token_can_be_given_an_expiry(app, runner, client, staff):
    staff.add("amy", "call_handler")
    with time_machine.travel(utcnow(), tick=False) as clock:
        token = runner.invoke(args=["users", "token", "amy", "--expires-in-days", "7"]).output.strip().splitlines()[-1]
        bearer = {"Authorization": f"Bearer {token}"}
        clock.shift(timedelta(days=6, hours=23))
        assert client.get(CALLERS, headers=bearer).status_code != 401
        clock.shift(timedelta(hours=2))
        assert client.get(CALLERS, headers=bearer).status_code == 401
        listing = runner.invoke(args=["users", "list"]).output
        assert "expired" in listing


def test_10_9_deactivate_stops_every_token_and_session(app, runner, client, staff):
    amy = staff.add("amy", "call_handler")
    staff.add("bob", "call_handler")
    sign_in(app, client, "amy")
    result = runner.invoke(args=["users", "deactivate", "amy"])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert client.get(CALLERS, headers=amy["headers"]).status_code == 401
    assert not signed_in(client)
    assert client.post("/login", data={"username": "amy", "password": "pw-for-tests"}).status_code == 401
    assert runner.invoke(args=["users", "token", "amy"]).exit_code != 0  # no new token for a deactivated user
    listing = runner.invoke(args=["users", "list"]).output.splitlines()
    assert any(line.startswith("amy") and "deactivated" in line and "none" in line for line in listing)
    assert any(line.startswith("bob") and "active" in line for line in listing)


@pytest.mark.parametrize("weak", ["short-pw", "password1234", "qwertyuiop12", "aaaaaaaaaaaa", "123456789012",
                                  "Password123!", "amyamyamy1234"])
def test_10_9_set_password_refuses_short_and_common_passwords(app, runner, weak):
    runner.invoke(args=["users", "add", "amy", "--role", "call_handler"])
    result = runner.invoke(args=["users", "set-password", "amy"], input=weak + "\n")
    assert result.exit_code != 0
    with app.app_context():
        assert db_session().scalar(select(User.password_hash).where(User.username == "amy")) is None


def test_10_9_set_password_accepts_a_long_uncommon_password_from_stdin(app, runner, client):
    runner.invoke(args=["users", "add", "amy", "--role", "call_handler"])
    assert runner.invoke(args=["users", "set-password", "amy"], input="violet kettle harbour\n").exit_code == 0
    assert client.post("/login", data={"username": "amy", "password": "violet kettle harbour"}).status_code == 302


def test_10_9_the_demo_password_meets_the_policy():
    from app.cli.demo_cmd import DEMO_PASSWORD

    passwords.check_policy(DEMO_PASSWORD, "handler")
    with pytest.raises(InvalidInput) as refused:
        passwords.check_policy("x" * 11)
    assert refused.value.code == "weak_password"


def _add_handler(application):
    with application.app_context():
        session = db_session()
        session.add(User(username="amy", role="call_handler", active=True,
                         password_hash=passwords.hash_password("pw-for-tests")))
        session.commit()


def _csrf(client) -> str:
    import re

    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

