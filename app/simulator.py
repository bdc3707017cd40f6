"""The simulated call platform's caller side: sends webhooks signed exactly as Twilio signs them,
so a simulated call goes through the same code paths (and signature checks) as a real one."""
import secrets

from twilio.request_validator import RequestValidator

from .platform import webhook_auth_token


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def signature(auth_token: str, url: str, params: dict) -> str:
    return RequestValidator(auth_token).compute_signature(url, params)


def signed_post(app, client, path: str, params: dict, headers: dict | None = None):
    """POST form `params` to `path` through a Flask test client with a valid X-Twilio-Signature."""
    base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    url = base.rstrip("/") + path
    sig = signature(webhook_auth_token(app.config), url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": sig, **(headers or {})})
