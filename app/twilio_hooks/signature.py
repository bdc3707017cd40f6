"""X-Twilio-Signature checks with twilio's own RequestValidator: forged or unsigned requests get 403
and nothing is stored (CONTRACT "Twilio webhooks")."""
import base64
import hashlib
import hmac
from collections.abc import Mapping
from functools import lru_cache, wraps
from urllib.parse import urlparse

from flask import abort, current_app, request
from twilio.request_validator import HMAC_SHA1, RequestValidator, add_port, remove_port

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


@lru_cache(maxsize=64)
def _url_forms(uri: str) -> tuple[str, str]:
    """The URL as given and in its other form (with or without the port), the given one first."""
    parsed = urlparse(uri)
    return (add_port(parsed), remove_port(parsed)) if parsed.port else (remove_port(parsed), add_port(parsed))


class Validator(RequestValidator):
    """twilio's RequestValidator, whose `validate` always signs the URL twice (without and with its
    port: Twilio signs either form) and accepts either: this one tries the form the URL was given in
    first and signs the other only when that fails (issue 13: one HMAC per ring instead of two). The
    same answer for every request; requests with `bodySHA256` (JSON bodies) take twilio's own path.
    Ring time's share is cut further without changing an answer (tests/test_twilio_urls.py): the URL
    forms are worked out once per URL, a form's values are read with `getlist` (twilio's `get_values`
    tries `getall` first and catches an AttributeError per field), and signatures are compared in C
    (`hmac.compare_digest`, constant time like twilio's `compare`)."""

    def validate(self, uri, params, signature, algorithm=None):
        if not isinstance(params, Mapping) or "bodySHA256" in uri:
            return super().validate(uri, params, signature, algorithm)
        try:
            given = (signature or "").encode()
            return any(hmac.compare_digest(self.compute_signature(form, params, algorithm).encode(), given)
                       for form in _url_forms(uri))
        except ValueError:  # an algorithm twilio does not know: its own path logs and refuses it
            return super().validate(uri, params, signature, algorithm)

    def compute_signature(self, uri, params, algorithm=None):
        getlist = getattr(params, "getlist", None)
        if getlist is None or hasattr(params, "getall") or (algorithm or HMAC_SHA1).upper() != HMAC_SHA1:
            return super().compute_signature(uri, params, algorithm)
        text = uri + "".join(name + value for name in sorted(set(params)) for value in sorted(set(getlist(name))))
        return base64.b64encode(hmac.new(self.token, text.encode("utf-8"), hashlib.sha1).digest()).decode("utf-8")


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
