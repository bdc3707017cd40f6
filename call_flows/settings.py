"""Organisation settings: the defaults DOMAIN.md gives, changed by an administrator without code.

Stored in the `settings` table as text; read through a short-lived cache so ring time never waits
on them.
"""
import json
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .models import Setting

DEFAULTS: dict[str, Any] = {
    "greeting": "Thank you for calling. Please hold while we connect you.",
    "warning_message": (
        "Please be aware that this call will not continue unless your behaviour improves. "
        "The adviser will now continue with your call."
    ),
    "termination_message": (
        "You were warned earlier in this call about your behaviour. As it has not improved, "
        "this call will now end. A manager will contact you about your query."
    ),
    # T3's exception: the final notice of an immediate termination, when the caller heard no warning
    "immediate_termination_message": (
        "Because of what has been said on this call, this call will now end. "
        "A manager will contact you about your query."
    ),
    "warning_recording_url": "",  # T1: a recording URL is played instead of <Say> when set
    "termination_recording_url": "",
    "immediate_termination_recording_url": "",
    # 14.10: spoken to the handler alone before the caller is connected ({flags}: e.g. "marker 2")
    "handler_whisper_flagged": "Flagged caller, {flags}, see your screen.",
    "handler_whisper_unflagged": "",  # "" = no whisper for a caller with no flags
    "say_voice": "Polly.Amy",
    "say_language": "en-GB",
    "callback_due_hours": 24,  # T5: when the line manager's callback is due
    "callback_max_attempts": 3,
    "claim_idle_minutes": 30,
    "callback_retry_minutes": 120,  # M1: after no_answer, the next attempt is due this much later
    "organisation_name": "the customer contact centre",  # M1: "where they are calling from"
    # I4: where a completed incident record goes (a comma separates several addresses)
    "recipient_hr_service_centre": "hr.servicecentre@example.org",
    "recipient_equality_diversity": "equality.diversity@example.org",
    "recipient_union_hs_reps": "union.hs.reps@example.org",
    "recipient_security_desk": "security.helpdesk@example.org",  # only when there was a breach
    "recipient_area_manager": "area.manager@example.org",  # I5
    "recipient_senior_officer": "senior.officer@example.org",  # I7 (HMPO: SEO)
    "recipient_senior_officer_next_level": "grade7@example.org",  # I7: informed of the police decision
    "staff_email_format": "{username}@example.org",  # how a member of staff is emailed (overdue notices)
    "incident_escalation_hours": 24,  # I5
    "repeat_window_days": 90,  # R10
    "calls_per_day_threshold": 5,  # C2
    "recovery_minutes": 5,
    # Caution register (R3, R5, R8, R9) and repeat-caller signals (R10, C2); see register_letters.py, signals.py
    "panel_quorum": 3,  # R3: at least 3 members present, one of them the chair (never below 3)
    "panel_meet_within_days": 5,  # R3
    "letter_due_working_days": 2,  # R5
    "appeal_working_days": 20,  # R8
    "register_retention_days": 365,  # R9: personal data kept this long after an entry ends
    "repeat_warnings_threshold": 2,  # R10: warnings in the window that make a repeat-caller signal
    "repeat_terminations_threshold": 1,  # R10
    "call_seconds_per_day_threshold": 3600,  # C2: total call time in a day
    "long_call_seconds": 1800,  # C2: one very long call
    "recipient_review_panel": "review.panel@example.org",  # R6/R5/R3 reminders (a comma separates several)
    "register_letter_template": "",  # R5: empty = the built-in template (register_letters.DEFAULT_TEMPLATE)
    "letter_new_issues_contact": ("You may still contact us about new issues or to request a service, in writing "
                                  "or by telephone; existing issues will not be revisited."),
    "letter_appeal_route": ("You have a right to appeal against this decision through our Corporate Complaints "
                            "Procedure (stage 2). We will answer your appeal within 20 working days."),
}

_CACHE_SECONDS = 30.0
_lock = threading.Lock()
_cache: dict[str, Any] = {"at": 0.0, "values": None}


def load(session: Session | Connection, fresh: bool = False) -> dict[str, Any]:
    """All settings (defaults overlaid with stored values), cached per process for 30 s.
    Takes a Session or a Connection, so ring time can use the connection it already holds."""
    now = time.monotonic()
    with _lock:
        if not fresh and _cache["values"] is not None and now - _cache["at"] < _CACHE_SECONDS:
            return _cache["values"]
    values = dict(DEFAULTS)
    for row in session.execute(select(Setting.key, Setting.value)):
        if row.key in DEFAULTS:
            values[row.key] = json.loads(row.value)
    with _lock:
        _cache.update(at=now, values=values)
    return values


def cached_or_defaults() -> dict[str, Any]:
    """For the ring-time fallback when the database is down: the last values seen, else defaults."""
    return _cache["values"] or dict(DEFAULTS)


def save(session: Session, key: str, value: Any) -> None:
    """Store one setting; the caller commits. Unknown keys are refused."""
    from .errors import InvalidInput

    if key not in DEFAULTS:
        raise InvalidInput(f"unknown setting {key!r}")
    if not isinstance(value, type(DEFAULTS[key])):
        raise InvalidInput(f"setting {key!r} must be a {type(DEFAULTS[key]).__name__}")
    row = session.get(Setting, key) or Setting(key=key, value="")
    row.value = json.dumps(value)
    session.add(row)
    invalidate()


def invalidate() -> None:
    with _lock:
        _cache.update(at=0.0, values=None)
