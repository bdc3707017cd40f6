"""Issue 10.7, 10.10, 10.11 and 10.12: the sign-in throttle, security headers, request size limits and
production hardening."""
import os
import stat
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app import config as app_config
from app.db import db_session
from app.simulator import new_call_sid, signed_post
from call_flows.staff import passwords
from call_flows.clock import utcnow
from call_flows.models import Call, User
from call_flows.models.imports import RegisterImportRun
from tests.conftest import make_app

RIGHT = "pw-for-tests-ok"
PROD = {"DEVELOPMENT": False, "SECRET_KEY": "k" * 40, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "test-auth-token", "PUBLIC_BASE_URL": "https://callguard.example.org"}


def with_password(app, username, role="call_handler"):
    with app.app_context():
        session = db_session()
        session.add(User(username=username, role=role, active=True, password_hash=generate_password_hash(RIGHT)))
        session.commit()


def attempt(client, username, password, address="192.0.2.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_overrides={"REMOTE_ADDR": address})


# 10.7 sign-in throttle ---------------------------------------------------------------------------------

def test_10_7_thirty_wrong_passwords_then_the_right_one_is_throttled(app, client):
    with_password(app, "amy")
    answers = [attempt(client, "amy", f"wrong-{n}", address=f"198.51.100.{n}").status_code for n in range(30)]
    assert answers[:10] == [401] * 10 and set(answers[10:]) == {429}
    right = attempt(client, "amy", RIGHT)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in right.get_data(as_text=True)
    assert client.get("/api/v1/callers/+447700900999").status_code == 401  # not signed in


def test_10_7_the_account_throttle_lifts_after_its_window(app, client):
    with_password(app, "amy")
    with time_machine.travel(utcnow(), tick=False) as clock:
        for n in range(11):
            attempt(client, "amy", f"wrong-{n}")
        assert attempt(client, "amy", RIGHT).status_code == 429
        clock.shift(timedelta(minutes=16))
        assert attempt(client, "amy", RIGHT).status_code == 302


def test_10_7_one_address_trying_many_accounts_is_throttled(database_url, configured_app):
    application = configured_app(LOGIN_LIMIT_ADDRESS="5 per 15 minutes")
    client = application.test_client()
    with_password(application, "amy")
    for n in range(5):
        assert attempt(client, f"guess{n}", "wrong", address="203.0.113.9").status_code == 401
    assert attempt(client, "amy", RIGHT, address="203.0.113.9").status_code == 429
    assert attempt(client, "amy", RIGHT, address="203.0.113.10").status_code == 302  # another address


def test_10_7_behind_a_trusted_proxy_the_client_address_is_throttled(configured_app):
    application = configured_app(LOGIN_LIMIT_ADDRESS="2 per 15 minutes", TRUSTED_PROXY_HOPS=1)
    with_password(application, "amy")
    client = application.test_client()

    def via_proxy(client_address, password):
        return client.post("/login", data={"username": "amy", "password": password},
                           headers={"X-Forwarded-For": client_address}, environ_overrides={"REMOTE_ADDR": "10.0.0.1"})

    assert [via_proxy("198.51.100.7", "wrong").status_code for _ in range(3)] == [401, 401, 429]
    assert via_proxy("198.51.100.8", RIGHT).status_code == 302  # same proxy, another client


def test_10_7_successful_sign_ins_do_not_use_up_the_address_allowance(database_url, configured_app):
    application = configured_app(LOGIN_LIMIT_ADDRESS="3 per 15 minutes")
    for name in ("a1", "a2", "a3", "a4", "a5"):
        with_password(application, name)
    client = application.test_client()
    assert [attempt(client, n, RIGHT).status_code for n in ("a1", "a2", "a3", "a4", "a5")] == [302] * 5


@pytest.mark.parametrize("case", ["unknown", "deactivated", "no_password"])
def test_10_7_unknown_users_cost_the_same_password_hash_check(app, client, monkeypatch, case):
    with app.app_context():
        session = db_session()
        if case == "deactivated":
            session.add(User(username="gone", role="call_handler", active=False,
                             password_hash=generate_password_hash(RIGHT)))
        if case == "no_password":
            session.add(User(username="sso", role="call_handler", active=True))
        session.commit()
    checked = []
    real = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    username = {"unknown": "nobody", "deactivated": "gone", "no_password": "sso"}[case]
    assert attempt(client, username, RIGHT).status_code == 401
    assert len(checked) == 1 and checked[0].startswith("scrypt:")


# 10.10 headers -----------------------------------------------------------------------------------------

def _assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_10_10_pages_api_exports_and_webhooks_carry_security_headers_and_no_store(app, client, staff):
    admin = staff.add("admin", "admin")
    responses = [client.get("/login"), client.get("/api/v1/settings", headers=admin["headers"]),
                 client.get("/admin/register/export.csv", headers=admin["headers"]),
                 client.get("/api/v1/nowhere", headers=admin["headers"]),
                 signed_post(app, client, "/twilio/voice/inbound",
                             {"CallSid": new_call_sid(), "From": "+447700900123", "To": "+441632960000"})]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 200]
    for response in responses:
        _assert_security_headers(response)
    assert "Strict-Transport-Security" not in responses[0].headers  # development over http
    assert "Set-Cookie" not in responses[1].headers or "Secure" not in responses[1].headers["Set-Cookie"]


def test_10_10_static_files_may_be_cached(client):
    response = client.get("/static/callguard.css")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_10_10_production_sends_hsts_and_secure_samesite_cookies(configured_app):
    application = configured_app(**PROD)
    with_password(application, "amy")
    client = application.test_client()
    page = client.get("/login", base_url="https://callguard.example.org")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    signed = client.post("/login", data={"username": "amy", "password": RIGHT}, base_url="https://callguard.example.org")
    assert signed.status_code == 302
    cookie = signed.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# 10.11 request sizes -----------------------------------------------------------------------------------

def _forged_form(fields=100_000, size=10 * 1024 * 1024) -> bytes:
    body = "&".join(f"f{n}=x" for n in range(fields))
    return (body + "&pad=" + "x" * max(0, size - len(body))).encode()


@pytest.mark.parametrize("path", ["/twilio/voice/inbound", "/twilio/voice/status", "/twilio/voice/conference"])
def test_10_11_a_forged_10_mb_webhook_is_refused_413_and_stores_nothing(app, client, path):
    response = client.post(path, data=_forged_form(), content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 413 and response.mimetype == "text/plain"
    with app.app_context():
        assert db_session().scalar(select(func.count()).select_from(Call)) == 0


def test_10_11_a_webhook_of_many_small_fields_is_refused(app, client):
    response = client.post("/twilio/voice/inbound", data=_forged_form(fields=20_000, size=0),
                           content_type="application/x-www-form-urlencoded", headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 413


def test_10_11_an_oversized_api_body_is_a_json_413(client, staff):
    handler = staff.add("handler", "call_handler")
    response = client.post(f"/api/v1/calls/{new_call_sid()}/warnings", headers=handler["headers"],
                           json={"reason": "abuse", "detail": "x" * 100_000})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"


def test_10_11_an_oversized_page_form_is_refused(client):
    assert client.post("/login", data={"username": "amy", "password": "x" * 100_000}).status_code == 413


def test_10_11_too_many_multipart_parts_are_refused(client):
    import io

    data = {"username": "amy", "password": "x", "file": (io.BytesIO(b"x"), "x.txt"),
            **{f"f{n}": "x" for n in range(500)}}
    assert client.post("/login", data=data).status_code == 413


def test_10_11_the_register_import_still_takes_a_large_file(app, client, staff):
    import io

    admin = staff.add("admin", "admin")
    header = "name,phones,marker,precautions,added_on,last_reviewed_on,source,notified\n"
    text = header + "".join(f"Person {n},+4477009{n:05d},3,{'p' * 100},2026-01-01,,own,yes\n" for n in range(2000))
    assert len(text) > 200_000
    response = client.post("/admin/register/import", headers=admin["headers"], content_type="multipart/form-data",
                           data={"file": (io.BytesIO(text.encode()), "register.csv"), "dry_run": "yes"})
    assert response.status_code == 303
    with app.app_context():
        assert db_session().scalar(select(func.count()).select_from(RegisterImportRun)) == 1


# 10.12 production hardening -----------------------------------------------------------------------------

def test_10_12_production_refuses_a_short_secret_key(database_url):
    with pytest.raises(RuntimeError, match="at least 32"):
        make_app(database_url, **{**PROD, "SECRET_KEY": "x"})


def test_10_12_production_refuses_to_start_without_twilio_unless_simulator_is_asked_for(configured_app, database_url):
    with pytest.raises(RuntimeError, match="TWILIO_AUTH_TOKEN"):
        make_app(database_url, **{**PROD, "TWILIO_AUTH_TOKEN": None})
    simulated = configured_app(**{**PROD, "TWILIO_AUTH_TOKEN": None, "TWILIO_ACCOUNT_SID": None,
                        "CALLGUARD_PLATFORM": "simulated"})
    token = simulated.config["SIMULATED_AUTH_TOKEN"]
    assert "k" * 8 not in token and len(token) == 64  # derived by HMAC: reveals nothing of SECRET_KEY


def test_10_12_demo_setup_is_refused_in_production(configured_app):
    application = configured_app(**PROD)
    result = application.test_cli_runner().invoke(args=["demo", "setup"])
    assert result.exit_code != 0 and "refused in production" in result.output
    with application.app_context():
        assert db_session().scalar(select(func.count()).select_from(User)) == 0


def test_10_12_the_development_secret_file_is_private(tmp_path, monkeypatch):
    monkeypatch.setattr(app_config, "INSTANCE", tmp_path)
    first = app_config._development_secret()
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(first) == 64
    os.chmod(path, 0o644)  # left by an older version
    assert app_config._development_secret() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600



def test_10_12_production_refuses_to_start_without_public_base_url(database_url):
    """Twilio is handed callback URLs under PUBLIC_BASE_URL; without it they would point at 127.0.0.1."""
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        make_app(database_url, **{**PROD, "PUBLIC_BASE_URL": None})


def test_callback_urls_follow_port_in_the_embedded_default(database_url):
    """With no PUBLIC_BASE_URL the simulated platform's callback URLs use the port the service listens on."""
    application = make_app(database_url, PORT="5099")
    try:
        assert application.extensions["platform"].url("/twilio/voice/conference") == \
            "http://127.0.0.1:5099/twilio/voice/conference"
    finally:
        application.extensions["engine"].dispose()
