"""Domain errors. Views turn them into HTTP statuses; services raise them with a stable code."""


class DomainError(Exception):
    """Base class: `code` is the machine-readable error code of the staff API."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400


class InvalidPhone(DomainError):
    code = "invalid_phone"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class WarningRequired(Conflict):
    """T3: terminate refused on a call with no warning and no immediate reason."""

    code = "warning_required"


class CallEnded(Conflict):
    """CONTRACT: any act (accept, warn, need, terminate) on a call that has ended or was terminated."""

    code = "call_ended"


class AlreadyClaimed(Conflict):
    code = "already_claimed"
