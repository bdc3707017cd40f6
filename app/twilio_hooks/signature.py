"""X-Twilio-Signature checks with twilio's own RequestValidator: forged or unsigned requests get 403
and nothing is stored (CONTRACT "Twilio webhooks")."""
import logging
from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from ..access import TWILIO
from ..platform import webhook_auth_token

log = logging.getLogger(__name__)


def public_url() -> str:
    """The URL Twilio called: PUBLIC_BASE_URL behind a proxy, else the request's own URL."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    path = request.full_path.rstrip("?") if request.query_string else request.path
    return base.rstrip("/") + path


def twilio_signed(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        validator = current_app.extensions.get("twilio_validator")
        if validator is None:
            validator = current_app.extensions["twilio_validator"] = RequestValidator(
                webhook_auth_token(current_app.config))
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(public_url(), request.form, signature):
            log.warning("refused webhook with a bad or missing signature: %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    wrapped.access = TWILIO  # the route's declared policy (app/access.py)
    return wrapped
