"""X-Twilio-Signature checks with twilio's own RequestValidator: forged or unsigned requests get 403
and nothing is stored (CONTRACT "Twilio webhooks")."""
from collections.abc import Mapping
from functools import wraps
from urllib.parse import urlparse

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator, add_port, compare, remove_port

from call_flows import logs

from ..access import TWILIO
from ..platform import webhook_auth_token

log = logs.get_logger(__name__)


def public_url(req=None, config=None) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL behind a proxy, else the request's own URL.
    `req` and `config` default to Flask's request and current_app.config (any werkzeug Request works)."""
    req = request if req is None else req
    base = (current_app.config if config is None else config).get("PUBLIC_BASE_URL")
    if not base:
        return req.url
    path = req.full_path.rstrip("?") if req.query_string else req.path
    return base.rstrip("/") + path


class Validator(RequestValidator):
    """twilio's RequestValidator, whose `validate` always signs the URL twice (without and with its
    port: Twilio signs either form) and accepts either: this one tries the form the URL was given in
    first and signs the other only when that fails (issue 13: one HMAC per ring instead of two). The
    same answer for every request; requests with `bodySHA256` (JSON bodies) take twilio's own path."""

    def validate(self, uri, params, signature, algorithm=None):
        if not isinstance(params, Mapping) or "bodySHA256" in uri:
            return super().validate(uri, params, signature, algorithm)
        parsed = urlparse(uri)
        forms = (add_port(parsed), remove_port(parsed)) if parsed.port else (remove_port(parsed), add_port(parsed))
        try:
            return any(compare(self.compute_signature(form, params, algorithm), signature) for form in forms)
        except ValueError:  # an algorithm twilio does not know: its own path logs and refuses it
            return super().validate(uri, params, signature, algorithm)


def validator_for(app) -> RequestValidator:
    """The app's RequestValidator (built once, with the webhook auth token)."""
    validator = app.extensions.get("twilio_validator")
    if validator is None:
        validator = app.extensions["twilio_validator"] = Validator(webhook_auth_token(app.config))
    return validator


def twilio_signed(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        validator = validator_for(current_app)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(public_url(), request.form, signature):
            log.warning("webhook_refused", outcome="bad_signature", path=request.path)
            abort(403)
        return view(*args, **kwargs)

    wrapped.access = TWILIO  # the route's declared policy (app/access.py)
    return wrapped
