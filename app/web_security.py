"""HTTP hardening (issue 10): security headers, no caching of personal data, request size limits and
the sign-in throttle. Well-kept libraries do the work: `flask-talisman` (headers), `flask-limiter`
(throttle, on Redis when `REDIS_URL` is set, else in memory), Flask's own MAX_CONTENT_LENGTH.

Call `init_app` before CSRFProtect is set up: the per-endpoint size limit must be in place before the
CSRF check reads a form.
"""
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

# Every page: only our own scripts, styles, images and connections; never framed.
CSP = {"default-src": "'self'", "frame-ancestors": "'none'", "object-src": "'none'", "base-uri": "'self'"}
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
LARGE_UPLOADS = {"pages.register_import_upload": "REGISTER_IMPORT_MAX_REQUEST"}  # endpoint -> config key


def init_app(app: Flask) -> None:
    production = not app.config["DEVELOPMENT"]
    if app.config.get("TRUSTED_PROXY_HOPS"):
        hops = int(app.config["TRUSTED_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    Talisman(app, content_security_policy=CSP, force_https=False, frame_options="DENY",
             referrer_policy="same-origin", strict_transport_security=production,
             session_cookie_secure=production, session_cookie_samesite="Lax", session_cookie_http_only=True)
    app.config["SESSION_COOKIE_SECURE"] = production

    @app.after_request
    def _no_store(response):
        # Pages, exports and the API carry personal data: never kept by a browser or proxy cache.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.before_request
    def _upload_limit():
        key = LARGE_UPLOADS.get(request.endpoint or "")
        if key:  # werkzeug's multipart parser also buffers up to max_form_memory_size
            request.max_content_length = request.max_form_memory_size = app.config[key]
        elif request.mimetype in FORMS:
            request.form  # noqa: B018  parse (or refuse with 413) here, before any hook could swallow the error

    app.register_error_handler(413, _too_large)
    app.register_error_handler(429, _too_many)
    _throttle_login(app)


def _too_large(exc):
    message = "the request is larger than this endpoint accepts"
    if request.path.startswith("/api/"):
        response = jsonify({"error": {"code": "request_too_large", "message": message}})
    else:  # /twilio/ and pages: plain text (Twilio never sends anything this large)
        response = make_response(message + "\n")
        response.mimetype = "text/plain"
    response.status_code = 413
    return response


def _too_many(exc):
    message = "Too many sign-in attempts: wait a few minutes and try again."
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "too_many_requests", "message": message}}), 429
    return render_template("login.html", error=message), 429


def _account_key() -> str:
    return "login-account:" + request.form.get("username", "").strip().lower()[:80]


def _throttle_login(app: Flask) -> None:
    """10.7: sign-in attempts per account (every attempt counts) and per address (failed attempts
    count). A throttled attempt is answered 429 with Retry-After and checks no password."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config.get("REDIS_URL") or "memory://",
                      headers_enabled=True, swallow_errors=True, in_memory_fallback_enabled=True,
                      key_prefix="callguard-limits", strategy="moving-window")
    app.extensions["login_limiter"] = limiter
    from .pages.login import FAILED

    view: Callable[..., Any] = app.view_functions["pages.login"]
    view = limiter.limit(lambda: app.config["LOGIN_LIMIT_ACCOUNT"], key_func=_account_key, methods=["POST"])(view)
    view = limiter.limit(lambda: app.config["LOGIN_LIMIT_ADDRESS"], methods=["POST"],
                         deduct_when=lambda response: response.status_code == FAILED)(view)
    app.view_functions["pages.login"] = view
