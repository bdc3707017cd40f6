"""The simulated call platform's caller side: sends webhooks signed exactly as Twilio signs them,
so a simulated call goes through the same code paths (and signature checks) as a real one."""
import os

import requests
from twilio.request_validator import RequestValidator

from call_flows.platform.simulated import new_call_sid  # noqa: F401  (what `flask sim call` and tests dial with)

from .platform import webhook_auth_token


def signature(auth_token: str, url: str, params: dict) -> str:
    return RequestValidator(auth_token).compute_signature(url, params)


def signed_post(app, client, path: str, params: dict, headers: dict | None = None):
    """POST form `params` to `path` through a Flask test client with a valid X-Twilio-Signature."""
    base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    url = base.rstrip("/") + path
    sig = signature(webhook_auth_token(app.config), url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": sig, **(headers or {})})


class ServiceNotRunning(Exception):
    """Nothing answers at the service's URL."""


def service_url() -> str:
    """Where the running service listens: `http://127.0.0.1:$PORT` (PORT as scripts/serve.sh, 5000)."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or 5000}"


def post_to_service(app, base_url: str, path: str, params: dict, timeout: float = 15.0) -> requests.Response:
    """POST form `params` to the *running* service at `base_url` + `path`, signed as Twilio signs
    (so its open console and board learn of it at once, through its live events). The signature
    covers PUBLIC_BASE_URL + path when set (the service checks that URL), else the URL posted to.
    Raises ServiceNotRunning when nothing answers (15 s: Twilio's own webhook timeout)."""
    url = base_url.rstrip("/") + path
    signed_url = (app.config.get("PUBLIC_BASE_URL") or base_url).rstrip("/") + path
    sig = signature(webhook_auth_token(app.config), signed_url, params)
    try:
        return requests.post(url, data=params, headers={"X-Twilio-Signature": sig}, timeout=timeout)
    except requests.ConnectionError as exc:
        raise ServiceNotRunning(base_url) from exc
