"""14.5: single sign-on by OpenID Connect against a real provider on 127.0.0.1 (oidc-provider-mock):
the authorisation code flow with PKCE, roles and team from the groups claim, the same server-side
session record as a local sign-in, refusals, and signing out at the provider."""
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.db import db_session
from call_flows.models import StaffSession, Team, User
from call_flows.staff.sso import SsoPolicy, parse_role_map, role_for
from tests.oidc_provider import oidc_issuer, running_provider, set_claims, sso_config  # noqa: F401


def start(client) -> str:
    """/login/sso -> the provider's authorisation URL."""
    response = client.get("/login/sso")
    assert response.status_code == 302
    return response.headers["Location"]


def authorise(location: str, sub: str, action: str | None = None) -> str:
    """The person confirms at the provider (its consent form); returns where it sends the browser."""
    data = {"sub": sub, **({"action": action} if action else {})}
    response = requests.post(location, data=data, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def back(client, redirect: str):
    parts = urlsplit(redirect)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_by_sso(client, sub: str):
    return back(client, authorise(start(client), sub))


def user(app, username):
    with app.app_context():
        return db_session().scalar(select(User).where(User.username == username))


def sessions_of(app, user_id):
    with app.app_context():
        return db_session().scalars(select(StaffSession).where(StaffSession.user_id == user_id)).all()


@pytest.fixture
def sso_app(configured_app, oidc_issuer):  # noqa: F811
    return configured_app(**sso_config(oidc_issuer))


def test_sso_sign_in_uses_the_code_flow_with_pkce_and_nonce(sso_app, oidc_issuer):  # noqa: F811
    location = start(sso_app.test_client())
    assert location.startswith(f"{oidc_issuer}/oauth2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["callguard"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and "openid" in query["scope"][0].split()
    assert query["redirect_uri"] == ["http://localhost/login/sso/callback"]


def test_sso_first_sign_in_creates_the_user_with_role_and_team_from_the_groups_claim(sso_app, oidc_issuer):  # noqa: F811
    set_claims(oidc_issuer, "alice-sub", preferred_username="Alice@Example.org", groups=["other", "cg-managers"])
    client = sso_app.test_client()
    response = sign_in_by_sso(client, "alice-sub")
    assert response.status_code == 302 and response.headers["Location"] == "/callbacks"
    assert client.get("/callbacks").status_code == 200
    alice = user(sso_app, "alice@example.org")
    assert alice.role == "line_manager" and alice.password_hash is None
    assert alice.oidc_issuer == oidc_issuer and alice.oidc_subject == "alice-sub"
    with sso_app.app_context():
        assert db_session().get(Team, alice.team_id).name == "Passports North"
    # the same server-side session record as a local sign-in
    (record,) = sessions_of(sso_app, alice.id)
    assert record.revoked_at is None


def test_sso_role_follows_the_claim_at_every_sign_in_first_mapping_wins(sso_app, oidc_issuer):  # noqa: F811
    set_claims(oidc_issuer, "bob-sub", preferred_username="bob", groups=["cg-handlers"])
    assert sign_in_by_sso(sso_app.test_client(), "bob-sub").headers["Location"] == "/console"
    set_claims(oidc_issuer, "bob-sub", preferred_username="bob", groups=["cg-admins", "cg-managers"])
    assert sign_in_by_sso(sso_app.test_client(), "bob-sub").headers["Location"] == "/callbacks"
    assert user(sso_app, "bob").role == "line_manager"  # cg-managers is written before cg-admins


def test_sso_sign_out_ends_the_session_and_offers_the_providers_end_session(sso_app, oidc_issuer):  # noqa: F811
    set_claims(oidc_issuer, "carol-sub", preferred_username="carol", groups=["cg-handlers"])
    client = sso_app.test_client()
    sign_in_by_sso(client, "carol-sub")
    signed_out = client.post("/logout")
    assert signed_out.status_code == 200
    link = next(line for line in signed_out.get_data(as_text=True).splitlines() if 'id="end-session"' in line)
    assert f"{oidc_issuer}/oauth2/end_session?" in link
    assert "client_id=callguard" in link and "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Flogin" in link
    (record,) = sessions_of(sso_app, user(sso_app, "carol").id)
    assert record.revoked_at is not None and record.revoked_why == "logout"
    assert client.get("/console").status_code == 302  # signed out here


def test_sso_claim_that_maps_to_no_role_is_refused(sso_app, oidc_issuer):  # noqa: F811
    set_claims(oidc_issuer, "dave-sub", preferred_username="dave", groups=["finance", "everyone"])
    client = sso_app.test_client()
    refused = sign_in_by_sso(client, "dave-sub")
    assert refused.status_code == 401 and b"no group that callguard maps to a role" in refused.data
    assert user(sso_app, "dave") is None
    assert client.get("/console").status_code == 302


def test_sso_user_whose_claim_no_longer_maps_is_refused_and_their_sessions_end(sso_app, oidc_issuer):  # noqa: F811
    set_claims(oidc_issuer, "erin-sub", preferred_username="erin", groups=["cg-handlers"])
    desk = sso_app.test_client()
    sign_in_by_sso(desk, "erin-sub")
    assert desk.get("/console").status_code == 200
    set_claims(oidc_issuer, "erin-sub", preferred_username="erin", groups=[])
    assert sign_in_by_sso(sso_app.test_client(), "erin-sub").status_code == 401
    assert desk.get("/console").status_code == 302  # the other desk's session was revoked too
    assert all(r.revoked_why == "sso_no_role" for r in sessions_of(sso_app, user(sso_app, "erin").id))


def test_sso_expired_id_token_is_refused_and_asks_to_sign_in_again(configured_app, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with running_provider(token_max_age=timedelta(minutes=-10)) as issuer:
        app = configured_app(**sso_config(issuer))
        set_claims(issuer, "frank-sub", preferred_username="frank", groups=["cg-handlers"])
        refused = sign_in_by_sso(app.test_client(), "frank-sub")
    assert refused.status_code == 401 and b"has expired: sign in again" in refused.data
    assert user(app, "frank") is None


def test_sso_person_who_declines_at_the_provider_is_not_signed_in(sso_app, oidc_issuer):  # noqa: F811
    client = sso_app.test_client()
    refused = back(client, authorise(start(client), "gina-sub", action="deny"))
    assert refused.status_code == 401 and b"did not confirm" in refused.data


def test_sso_callback_with_a_forged_state_is_refused(sso_app, oidc_issuer):  # noqa: F811
    set_claims(oidc_issuer, "hal-sub", preferred_username="hal", groups=["cg-handlers"])
    victim = sso_app.test_client()
    start(victim)
    attacker_redirect = authorise(start(sso_app.test_client()), "hal-sub")  # another browser's code and state
    refused = back(victim, attacker_redirect)
    assert refused.status_code == 401 and user(sso_app, "hal") is None


def test_sso_first_sign_in_refused_when_creating_users_is_off(configured_app, oidc_issuer):  # noqa: F811
    app = configured_app(**sso_config(oidc_issuer, OIDC_CREATE_USERS=False))
    set_claims(oidc_issuer, "ivy-sub", preferred_username="ivy", groups=["cg-handlers"])
    refused = sign_in_by_sso(app.test_client(), "ivy-sub")
    assert refused.status_code == 401 and b"there is no callguard account ivy" in refused.data
    assert user(app, "ivy") is None


def test_sso_links_an_account_an_administrator_created(configured_app, oidc_issuer, staff):  # noqa: F811
    app = configured_app(**sso_config(oidc_issuer, OIDC_CREATE_USERS=False))
    staff.add("jo", "call_handler", team="Passports North")
    set_claims(oidc_issuer, "jo-sub", preferred_username="jo", groups=["cg-handlers"])
    assert sign_in_by_sso(app.test_client(), "jo-sub").headers["Location"] == "/console"
    assert user(app, "jo").oidc_subject == "jo-sub"
    set_claims(oidc_issuer, "other-sub", preferred_username="jo", groups=["cg-handlers"])
    assert sign_in_by_sso(app.test_client(), "other-sub").status_code == 401  # jo is someone else's now


def test_sso_deactivated_user_is_refused(sso_app, oidc_issuer):  # noqa: F811
    set_claims(oidc_issuer, "kim-sub", preferred_username="kim", groups=["cg-handlers"])
    sign_in_by_sso(sso_app.test_client(), "kim-sub")
    assert sso_app.test_cli_runner().invoke(args=["users", "deactivate", "kim"]).exit_code == 0
    refused = sign_in_by_sso(sso_app.test_client(), "kim-sub")
    assert refused.status_code == 401 and b"deactivated" in refused.data


def test_login_page_offers_sso_only_when_configured_and_the_form_stays(sso_app, client, staff):
    assert b"Sign in with your organisation" not in client.get("/login").data
    page = sso_app.test_client().get("/login").data
    assert b"Sign in with your organisation's account" in page and b'name="password"' in page
    assert client.get("/login/sso").status_code == 404


def test_local_accounts_still_sign_in_when_sso_is_configured(sso_app):
    from werkzeug.security import generate_password_hash

    with sso_app.app_context():
        db = db_session()
        db.add(User(username="local", role="supervisor", password_hash=generate_password_hash("pw-local-1234")))
        db.commit()
    client = sso_app.test_client()
    response = client.post("/login", data={"username": "local", "password": "pw-local-1234"})
    assert response.status_code == 302 and response.headers["Location"] == "/board"
    assert client.post("/logout").headers["Location"] == "/login"  # no provider sign-out for a local account


@pytest.mark.parametrize("role_map, problem", [
    ("cg-handlers=superuser", "role must be one of"),
    ("cg-handlers", "is not GROUP=ROLE"),
    ("=call_handler", "is not GROUP=ROLE"),
    ("", "must map at least one group"),
])
def test_sso_misconfigured_role_map_fails_at_startup(configured_app, role_map, problem):
    with pytest.raises(RuntimeError, match=problem):
        configured_app(**sso_config("https://login.example.org", OIDC_ROLE_MAP=role_map))


def test_sso_role_map_reads_nested_claims_and_single_values():
    rules = parse_role_map("admins = admin\n realm-staff=call_handler:Benefits North ;")
    assert [(r.group, r.role, r.team) for r in rules] == [("admins", "admin", None),
                                                          ("realm-staff", "call_handler", "Benefits North")]
    nested = SsoPolicy("realm_access.roles", rules)
    assert role_for({"realm_access": {"roles": ["realm-staff"]}}, nested).role == "call_handler"
    assert role_for({"groups": "admins"}, SsoPolicy("groups", rules)).role == "admin"
    assert role_for({"groups": {"admins": True}}, SsoPolicy("groups", rules)) is None


def test_sso_does_not_link_a_deactivated_account(configured_app, oidc_issuer, staff):  # noqa: F811
    app = configured_app(**sso_config(oidc_issuer))
    staff.add("lou", "call_handler")
    assert app.test_cli_runner().invoke(args=["users", "deactivate", "lou"]).exit_code == 0
    set_claims(oidc_issuer, "lou-sub", preferred_username="lou", groups=["cg-handlers"])
    assert sign_in_by_sso(app.test_client(), "lou-sub").status_code == 401
    assert user(app, "lou").oidc_subject is None and user(app, "lou").active is False
