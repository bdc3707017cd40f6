"""Typed SQLAlchemy models, one module per area. Import from here."""
from .base import Base
from .calls import Call, CallWarning, PlatformAction, Termination, WebhookReceipt
from .cases import CallbackTask, CaseNote, Incident
from .incidents_extra import EmailDelivery
from .jobs import OutboxJob, Setting
from .panel import (ConcernNotice, PanelDecision, RegisterAppeal, RegisterCount, RegisterLetter, RegisterReminder,
                    RegisterReview)
from .people import ROLES, Team, User
from .recovery import RecoveryPeriod
from .register import AuditLog, Customer, CustomerPhone, RegisterEntry, Restriction

__all__ = [
    "AuditLog", "Base", "Call", "CallWarning", "CallbackTask", "CaseNote", "Customer",
    "CustomerPhone", "EmailDelivery", "Incident", "OutboxJob", "PlatformAction", "ROLES", "RegisterEntry",
    "RecoveryPeriod", "Restriction", "Setting", "ConcernNotice", "PanelDecision", "RegisterAppeal",
    "RegisterCount", "RegisterLetter", "RegisterReminder", "RegisterReview", "Team", "Termination", "User", "WebhookReceipt",
]

from .imports import RegisterImportRun  # noqa: E402,F401  (register import runs, issue 5 item 9)
from .sessions import StaffSession  # noqa: E402,F401  (server-side browser sessions, issue 10)
