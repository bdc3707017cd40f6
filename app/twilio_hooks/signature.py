"""X-Twilio-Signature checks with twilio's own RequestValidator: forged or unsigned requests get 403
and nothing is stored (CONTRACT "Twilio webhooks")."""
from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

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


def validator_for(app) -> RequestValidator:
    """The app's RequestValidator (built once, with the webhook auth token)."""
    validator = app.extensions.get("twilio_validator")
    if validator is None:
        validator = app.extensions["twilio_validator"] = RequestValidator(webhook_auth_token(app.config))
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
