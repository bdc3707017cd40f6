"""App-wide routing rules (CONTRACT conventions): ids in URLs are bounded, and every error answers in
its audience's format whatever raised it: JSON `{"error": {"code", "message"}}` under `/api/`,
TwiML under `/twilio/`, Flask's pages elsewhere."""
import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from call_flows import twiml

log = logging.getLogger(__name__)
MAX_ID = 2**63 - 1  # the largest PostgreSQL BIGINT; SQLite's INTEGER has the same range


class BoundedInt(IntegerConverter):
    """`<int:...>` that matches 0..2^63-1 only: a larger id cannot name a row, so it is a 404 like any
    unknown id (never a database overflow and a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)


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
    app.config.setdefault("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)  # 413 beyond; the register import allows more

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return _for_audience(exc)

    @app.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError):
        log.error("unhandled error on %s", request.path, exc_info=exc.original_exception)
        if request.path.startswith("/api/"):
            return error_json(500, "internal_error", "something went wrong on our side; please try again")
        return _for_audience(exc)
