"""Typed SQLAlchemy models, one module per area. Import from here."""
from call_flows.models.base import Base
from call_flows.models.calls import Call, CallWarning, PlatformAction, Termination, WebhookReceipt
from call_flows.models.cases import CallbackTask, CaseNote, Incident
from call_flows.models.incidents_extra import EmailDelivery
from call_flows.models.jobs import OutboxJob, Setting
from call_flows.models.panel import (ConcernNotice, PanelDecision, RegisterAppeal, RegisterCount, RegisterLetter, RegisterReminder,
                    RegisterReview)
from call_flows.models.people import Team, User
from call_flows.vocabulary import ROLES  # the roles, re-exported as before (defined in the vocabulary)
from call_flows.models.recovery import RecoveryPeriod
from call_flows.models.register import AuditLog, Customer, CustomerPhone, RegisterEntry, Restriction

__all__ = [
    "AuditLog", "Base", "Call", "CallWarning", "CallbackTask", "CaseNote", "Customer",
    "CustomerPhone", "EmailDelivery", "Incident", "OutboxJob", "PlatformAction", "ROLES", "RegisterEntry",
    "RecoveryPeriod", "Restriction", "Setting", "ConcernNotice", "PanelDecision", "RegisterAppeal",
    "RegisterCount", "RegisterLetter", "RegisterReminder", "RegisterReview", "Team", "Termination", "User", "WebhookReceipt",
]

from call_flows.models.imports import RegisterImportRun  # noqa: E402,F401  (register import runs, issue 5 item 9)
from call_flows.models.sessions import StaffSession  # noqa: E402,F401  (server-side browser sessions, issue 10)
