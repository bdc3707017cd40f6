"""Domain errors. Views turn them into HTTP statuses; services raise them with a stable code."""
from typing import Any


class DomainError(Exception):
    """Base class: `code` is the machine-readable error code of the staff API, `status` its HTTP status.
    A subclass names both in its class line: `class NotFound(DomainError, code="not_found", status=404)`."""

    code = "domain_error"
    status = 400

    def __init_subclass__(cls, code: str | None = None, status: int | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(DomainError, code="invalid_input", status=400):
    """A value a service was given breaks a rule (the message says which)."""


class InvalidPhone(DomainError, code="invalid_phone", status=400):
    """A number that is not a phone number in the organisation's region."""


class NotFound(DomainError, code="not_found", status=404):
    """No such record (or none the staff member may see)."""


class Forbidden(DomainError, code="forbidden", status=403):
    """The staff member's role or scope does not allow the act."""


class Conflict(DomainError, code="conflict", status=409):
    """The record's state does not allow the act now."""


class WarningRequired(Conflict, code="warning_required"):
    """T3: terminate refused on a call with no warning and no immediate reason."""


class CallEnded(Conflict, code="call_ended"):
    """CONTRACT: any act (accept, warn, need, terminate) on a call that has ended or was terminated."""


class AlreadyClaimed(Conflict, code="already_claimed"):
    """Callback task claimed by someone else already."""
