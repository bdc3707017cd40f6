"""A real OpenID Connect provider for tests (14.5): `oidc-provider-mock` (Authlib's server under the
hood) on 127.0.0.1, with discovery, JWKS, signed ID tokens, a consent form and end_session."""
import threading
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import quote

import oidc_provider_mock
import pytest
import requests
from werkzeug.serving import make_server

ROLE_MAP = "cg-handlers=call_handler:Passports North; cg-managers=line_manager:Passports North; cg-admins=admin"


@contextmanager
def running_provider(token_max_age: timedelta = timedelta(hours=1)):
    """Yields the issuer URL of a provider serving on an ephemeral port of 127.0.0.1.
    `token_max_age` is the ID and access tokens' lifetime (negative: already expired when issued)."""
    provider = oidc_provider_mock.app(access_token_max_age=token_max_age, require_nonce=True)
    server = make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def set_claims(issuer: str, sub: str, **claims) -> None:
    """What the provider will say about `sub` (e.g. groups=[...], preferred_username=...)."""
    response = requests.put(f"{issuer}/users/{quote(sub, safe='')}", json=claims, timeout=5)
    assert response.status_code == 204, response.text


def sso_config(issuer: str, **extra) -> dict:
    return {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "callguard", "OIDC_CLIENT_SECRET": "client-secret",
            "OIDC_ROLES_CLAIM": "groups", "OIDC_ROLE_MAP": ROLE_MAP, **extra}


@pytest.fixture
def oidc_issuer(monkeypatch):
    # The provider (Authlib's server) refuses plain http unless told it is a local test.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with running_provider() as issuer:
        yield issuer
