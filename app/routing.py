"""App-wide routing rules (CONTRACT conventions): ids in URLs are bounded, and every error answers in
its audience's format whatever raised it: JSON `{"error": {"code", "message"}}` under `/api/`,
TwiML under `/twilio/`, Flask's pages elsewhere."""

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.routing import IntegerConverter

from call_flows.calls import twiml
from call_flows import logs

log = logs.get_logger(__name__)
MAX_ID = 2**31 - 1  # the largest id our columns hold: PostgreSQL INTEGER (SQLite's is wider)


def digits_at_most(limit: int) -> str:
    """A regular expression (no groups) for the decimal numbers 0..`limit`, leading zeros allowed."""
    top = str(limit)
    options = [rf"\d{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    for i, digit in enumerate(top):
        if digit != "0":
            rest = len(top) - i - 1
            options.append(top[:i] + f"[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    options.append(top)
    return "0*(?:" + "|".join(options) + ")"


class BoundedInt(IntegerConverter):
    """`<int:...>` that matches 0..MAX_ID (2^31-1) only: a larger id cannot name a row, so it is a 404 like any
    unknown id (never a database overflow and a 500). The bound is in the pattern itself, so a path with
    a larger id matches no rule at all (a converter's refusal alone would let the router answer 405)."""

    regex = digits_at_most(MAX_ID)

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)


def form_id(raw: str | None) -> int | None:
    """An id written in a form or query string: its int when it could name a row (digits, at most
    MAX_ID), else None; callers treat None as "not given" or refuse it with a 4xx, never a 500."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and int(raw) <= MAX_ID else None


def error_json(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _for_audience(exc: HTTPException):
    path = request.path
    if path.startswith("/api/"):
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_json(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response
    if path.startswith("/twilio/"):  # never a platform "application error" page to a caller
        return Response(twiml.empty(), status=exc.code or 500, mimetype="text/xml")
    return exc


def init_app(app: Flask) -> None:
    """Call before registering blueprints: rules are compiled with the converters present then."""
    app.url_map.converters["int"] = BoundedInt
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # 413 beyond; the register import allows more
        app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return _for_audience(exc)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(exc: Exception):
        """The database is unreachable or its connection was cut (issue 12 fault 4): a clear 503
        (`service_unavailable`, Retry-After) and nothing stored, since the request's transaction
        never committed. The pool drops connections found broken, so the next request reconnects."""
        log.warning("database_unavailable", path=request.path, error=type(exc).__name__)
        unavailable = ServiceUnavailable("the service cannot reach its database; nothing was stored; try again")
        response = _for_audience(unavailable)
        if isinstance(response, HTTPException):
            response = response.get_response()
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError):
        log.error("unhandled_error", path=request.path, exc_info=exc.original_exception)
        if request.path.startswith("/api/"):
            return error_json(500, "internal_error", "something went wrong on our side; please try again")
        return _for_audience(exc)
