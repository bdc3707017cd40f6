"""One error shape for the API: {"error": {"code", "message"}} with a 4xx status (CONTRACT)."""

from pydantic import ValidationError

from call_flows.errors import DomainError
from call_flows import logs
from call_flows.validation import message

from ..db import db_session
from ..routing import error_json as error_response
from . import bp

log = logs.get_logger(__name__)


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    db_session().rollback()
    return error_response(exc.status, exc.code, exc.message)


@bp.errorhandler(ValidationError)
def validation_error(exc: ValidationError):
    db_session().rollback()
    return error_response(400, "invalid_input", message(exc))

