"""14.5 end to end in Chromium: single sign-on against a real OpenID provider started on 127.0.0.1
(oidc-provider-mock): sign in, role from claims, sign out (here and at the provider), a refused
claim and an expired ID token. Every callguard page passes axe with no serious violations."""
from datetime import timedelta

import pytest

from playwright.sync_api import expect
from call_flows import settings as org_settings
from tests.browser.conftest import LiveServer, axe_serious
from tests.conftest import _clean, make_app
from tests.oidc_provider import running_provider, set_claims, sso_config

SSO_BUTTON = "Sign in with your organisation's account"


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider is plain http on 127.0.0.1
    with running_provider() as issuer:
        yield issuer


def live_sso(database_url, issuer):
    org_settings.invalidate()
    return LiveServer(make_app(database_url, WTF_CSRF_ENABLED=True, TESTING=False, **sso_config(issuer)))


@pytest.fixture
def live_sso_server(database_url, provider, real_commits):
    server = live_sso(database_url, provider)
    yield server
    server.stop()
    server.app.extensions["engine"].dispose()
    _clean(database_url)
    org_settings.invalidate()


def sign_in_at_provider(page, live, sub):
    page.goto(f"{live.url}/login")
    page.get_by_role("button", name=SSO_BUTTON).click()
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_sso_sign_in_role_from_claims_and_sign_out_in_the_browser(page, live_sso_server, provider):
    live = live_sso_server
    set_claims(provider, "sam-sub", preferred_username="sam", groups=["cg-handlers"])
    page.goto(f"{live.url}/login")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()  # the local form stays
    assert axe_serious(page) == []
    sign_in_at_provider(page, live, "sam-sub")
    page.wait_for_url(f"{live.url}/console")
    expect(page.get_by_text("sam (call handler)")).to_be_visible()  # the role came from the groups claim
    assert axe_serious(page) == []

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live.url}/logout")
    expect(page.get_by_role("heading", name="You are signed out of callguard")).to_be_visible()
    assert axe_serious(page) == []
    page.get_by_role("link", name="Sign out of your organisation's account").click()
    page.get_by_role("button", name="End session").click()  # the provider's own confirmation
    page.wait_for_url(f"{live.url}/login?state=*")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{live.url}/console")
    page.wait_for_url(f"{live.url}/login?next=**")  # the session ended here


def test_sso_refused_claim_shows_why_in_the_browser(page, live_sso_server, provider):
    live = live_sso_server
    set_claims(provider, "pat-sub", preferred_username="pat", groups=["finance"])
    sign_in_at_provider(page, live, "pat-sub")
    page.wait_for_url(f"{live.url}/login/sso/callback?*")
    alert = page.get_by_role("alert")
    assert "no group that callguard maps to a role" in alert.inner_text()
    expect(page.get_by_role("button", name=SSO_BUTTON)).to_be_visible()  # can try again
    assert axe_serious(page) == []


def test_sso_expired_id_token_asks_to_sign_in_again_in_the_browser(page, database_url, monkeypatch, real_commits):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with running_provider(token_max_age=timedelta(minutes=-10)) as issuer:
        live = live_sso(database_url, issuer)
        try:
            set_claims(issuer, "lee-sub", preferred_username="lee", groups=["cg-handlers"])
            sign_in_at_provider(page, live, "lee-sub")
            page.wait_for_url(f"{live.url}/login/sso/callback?*")
            assert "has expired: sign in again" in page.get_by_role("alert").inner_text()
            page.goto(f"{live.url}/console")
            page.wait_for_url(f"{live.url}/login?next=**")  # not signed in
        finally:
            live.stop()
            live.app.extensions["engine"].dispose()
            _clean(database_url)
            org_settings.invalidate()
