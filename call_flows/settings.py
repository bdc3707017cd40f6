"""Organisation settings: the defaults DOMAIN.md gives, changed by an administrator without code.

`OrgSettings` is the one list: each setting is one line with its type, bounds and default (adding a
setting is adding a line). A value outside its type or bounds is refused with InvalidInput naming
them (the API answers 400). Stored in the `settings` table as JSON text; read through a short-lived
cache so ring time never waits on them; `load` returns the typed `OrgSettings` (attribute access).
"""
import json
import string
import threading
import time
from typing import Annotated, Any, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from call_flows.register import letter_template
from call_flows.errors import InvalidInput
from call_flows.models import Setting
from call_flows.calls.twiml import TWILIO_DEFAULT_HOLD_MUSIC, is_http_url
from call_flows import logs

log = logs.get_logger(__name__)


def _url(value: str) -> str:
    if not is_http_url(value):  # Twilio fetches these URLs: absolute http(s), no spaces
        raise ValueError("must be an http:// or https:// URL")
    return value


def _url_or_empty(value: str) -> str:
    return _url(value) if value.strip() else value


def _addresses(value: str) -> str:
    if any("@" not in part.strip() or " " in part.strip() for part in value.split(",")):
        raise ValueError("must be e-mail addresses separated by commas")
    return value


def _email_format(value: str) -> str:
    fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    if fields != [("username", "", None)] or "@" not in value:
        raise ValueError("must be an address with one {username} placeholder, e.g. {username}@example.org")
    return value


def _template(value: str) -> str:
    return letter_template.validate(value) if value else value


Speech = Annotated[str, Field(min_length=1, max_length=2000, description="text of 1 to 2000 characters")]
Text = Annotated[str, Field(min_length=1, max_length=2000, description="text of 1 to 2000 characters")]
Url = Annotated[str, Field(max_length=500, description="an http(s) URL"), AfterValidator(_url)]
UrlOrEmpty = Annotated[str, Field(max_length=500, description="an http(s) URL, or empty"), AfterValidator(_url_or_empty)]
Addresses = Annotated[str, Field(min_length=3, max_length=1000, description="e-mail addresses separated by commas"),
                      AfterValidator(_addresses)]
RetentionDays = Annotated[int, Field(ge=1, le=3650, description="days, 1 to 3650")]  # R9


class OrgSettings(BaseModel):
    """Every organisation setting: type, bounds (inclusive) and default, one line each (DOMAIN "configurable")."""

    model_config = ConfigDict(strict=True, validate_assignment=True, extra="forbid")

    greeting: Speech = "Thank you for calling. Please hold while we connect you."
    warning_message: Speech = ("Please be aware that this call will not continue unless your behaviour improves. "
                               "The adviser will now continue with your call.")  # T1
    termination_message: Speech = ("You were warned earlier in this call about your behaviour. As it has not "
                                   "improved, this call will now end. A manager will contact you about your query.")  # T3
    immediate_termination_message: Speech = ("Because of what has been said on this call, it will now end. "
                                             "A manager will contact you about your query.")  # T3 immediate reason
    warning_recording_url: UrlOrEmpty = ""  # T1: a recording URL is played instead of <Say> when set
    termination_recording_url: UrlOrEmpty = ""
    immediate_termination_recording_url: UrlOrEmpty = ""
    # 14.10: spoken to the handler alone before the caller is connected ({flags}: e.g. "marker 2"); "" = none
    handler_whisper_flagged: Annotated[str, Field(max_length=300)] = "Flagged caller, {flags}, see your screen."
    handler_whisper_unflagged: Annotated[str, Field(max_length=300)] = ""  # off by default for unflagged callers
    # What a caller hears while waiting for a handler (<Conference waitUrl>, fetched with GET): music, or TwiML
    # with a message; blank = Twilio's default hold music (never silence, 9.7)
    hold_music_url: UrlOrEmpty = TWILIO_DEFAULT_HOLD_MUSIC
    # Twilio's fallback URL, when nothing else can be done for a call
    fallback_message: Speech = "We are sorry, we cannot take your call at the moment. Please call us back later."
    say_voice: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="a <Say> voice name")] = "Polly.Amy"
    say_language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                       description="a language tag such as en-GB")] = "en-GB"
    callback_due_hours: Annotated[int, Field(ge=1, le=336)] = 24  # T5: when the line manager's callback is due
    callback_max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    claim_idle_minutes: Annotated[int, Field(ge=5, le=1440)] = 30
    callback_retry_minutes: Annotated[int, Field(ge=5, le=10080)] = 120  # M1: after no_answer, the next attempt
    organisation_name: Annotated[str, Field(min_length=1, max_length=200)] = "the customer contact centre"  # M1
    # I4: where a completed incident record goes (a comma separates several addresses)
    recipient_hr_service_centre: Addresses = "hr.servicecentre@example.org"
    recipient_equality_diversity: Addresses = "equality.diversity@example.org"
    recipient_union_hs_reps: Addresses = "union.hs.reps@example.org"
    recipient_security_desk: Addresses = "security.helpdesk@example.org"  # only when there was a breach
    recipient_area_manager: Addresses = "area.manager@example.org"  # I5
    recipient_senior_officer: Addresses = "senior.officer@example.org"  # I7 (HMPO: SEO)
    recipient_senior_officer_next_level: Addresses = "grade7@example.org"  # I7: informed of the police decision
    staff_email_format: Annotated[str, Field(max_length=200, description="an address with one {username} placeholder"),
                                  AfterValidator(_email_format)] = "{username}@example.org"  # overdue notices
    incident_escalation_hours: Annotated[int, Field(ge=1, le=24)] = 24  # I5: within 24 hours at most (PO)
    repeat_window_days: Annotated[int, Field(ge=1, le=1095)] = 90  # R10
    calls_per_day_threshold: Annotated[int, Field(ge=1, le=1000)] = 5  # C2
    recovery_minutes: Annotated[int, Field(ge=0, le=120)] = 5
    panel_quorum: Annotated[int, Field(ge=3, le=50)] = 3  # R3: at least 3 members present, one of them the chair
    panel_meet_within_days: Annotated[int, Field(ge=1, le=5)] = 5  # R3: within 5 days at most
    letter_due_working_days: Annotated[int, Field(ge=1, le=2)] = 2  # R5: within 2 working days at most
    appeal_working_days: Annotated[int, Field(ge=1, le=20)] = 20  # R8: within 20 working days at most
    register_retention_days: Annotated[int, Field(ge=0, le=3650)] = 365  # R9: kept this long after an entry ends
    repeat_warnings_threshold: Annotated[int, Field(ge=1, le=100)] = 2  # R10: warnings in the window
    repeat_terminations_threshold: Annotated[int, Field(ge=1, le=100)] = 1  # R10
    call_seconds_per_day_threshold: Annotated[int, Field(ge=60, le=86400)] = 3600  # C2: total call time in a day
    long_call_seconds: Annotated[int, Field(ge=60, le=86400)] = 1800  # C2: one very long call
    recipient_review_panel: Addresses = "review.panel@example.org"  # R6/R5/R3 reminders
    # R5: empty = the built-in template (register_letters.DEFAULT_TEMPLATE); else only documented placeholders
    register_letter_template: Annotated[str, Field(max_length=letter_template.MAX_LENGTH), AfterValidator(_template)] = ""
    letter_new_issues_contact: Text = ("You may still contact us about new issues or to request a service, in writing "
                                       "or by telephone; existing issues will not be revisited.")
    letter_appeal_route: Text = ("You have a right to appeal against this decision through our Corporate Complaints "
                                 "Procedure (stage 2). We will answer your appeal within 20 working days.")

    # R9 retention (call_flows/retention.py; README "Retention"): days each kind of record keeps personal data
    retention_calls_days: RetentionDays = 365  # caller numbers and T2 notes on calls (never below repeat_window_days)
    retention_warnings_days: RetentionDays = 365  # the caller's number and what they said on a warning (same floor)
    retention_terminations_days: RetentionDays = 365  # the caller's number and the detail on a termination (same floor)
    retention_case_notes_days: RetentionDays = 1095  # case notes (T4, M1): as long as a register entry may rest on them (R6)
    retention_callback_tasks_days: RetentionDays = 365  # a closed callback task's number, outcome note and cancel reason
    retention_webhook_receipts_days: RetentionDays = 30  # webhook idempotency keys (they hold CallSids)
    retention_platform_actions_days: RetentionDays = 30  # the simulated platform's log of what the caller heard
    retention_mail_days: RetentionDays = 30  # instance/outbox/ mail files and the stored bodies of emails already sent
    retention_import_runs_days: RetentionDays = 30  # register import runs' error and note text (rows may quote numbers)

DEFAULTS: dict[str, Any] = OrgSettings().model_dump()

_CACHE_SECONDS = 30.0
_lock = threading.Lock()
_cache: dict[str, Any] = {"at": 0.0, "values": None}  # values: OrgSettings | None


def describe(key: str) -> str:
    """The type and bounds of one setting, in words (e.g. "a whole number from 1 to 336")."""
    field = OrgSettings.model_fields[key]
    bounds = {type(m).__name__: m for m in field.metadata}
    if field.annotation is int:
        return f"a whole number from {bounds['Ge'].ge} to {bounds['Le'].le}"
    if field.description:
        return field.description
    low = bounds["MinLen"].min_length if "MinLen" in bounds else 0
    return f"text of {low} to {bounds['MaxLen'].max_length} characters"


def checked(key: str, value: Any) -> Any:
    """`value` as setting `key` accepts it; raises InvalidInput naming the type and bounds."""
    if key not in OrgSettings.model_fields:
        raise InvalidInput(f"unknown setting {key!r}")
    try:
        model = OrgSettings.__pydantic_validator__.validate_assignment(OrgSettings.model_construct(), key, value)
    except ValidationError as exc:
        error = exc.errors()[0]
        detail = str(error.get("ctx", {}).get("error", error["msg"]))
        raise InvalidInput(f"setting {key!r} must be {describe(key)}; {value!r} was refused ({detail})") from None
    return getattr(model, key)


def load(session: Session | Connection, fresh: bool = False) -> OrgSettings:
    """All settings (defaults overlaid with stored values), cached per process for 30 s; treat as read-only.
    Takes a Session or a Connection, so ring time can use the connection it already holds. A stored
    value outside its bounds (saved before they existed) is logged and its default used."""
    now = time.monotonic()
    with _lock:
        if not fresh and _cache["values"] is not None and now - _cache["at"] < _CACHE_SECONDS:
            return cast(OrgSettings, _cache["values"])
    values = dict(DEFAULTS)
    for row in session.execute(select(Setting.key, Setting.value)):
        if row.key in DEFAULTS:
            try:
                values[row.key] = checked(row.key, json.loads(row.value))
            except (InvalidInput, ValueError):
                log.warning("setting_out_of_bounds", key=row.key, outcome="default_used")
    settings = OrgSettings.model_construct(**values)  # each value checked above, or a default
    with _lock:
        _cache.update(at=now, values=settings)
    return settings


def cached() -> OrgSettings | None:
    """The settings `load` would return without a query (still within their 30 s), else None: ring
    time's journal path then needs no database connection at all (issue 13)."""
    values, at = _cache["values"], _cache["at"]
    return cast(OrgSettings, values) if values is not None and time.monotonic() - at < _CACHE_SECONDS else None


def cached_or_defaults() -> OrgSettings:
    """For the ring-time fallback when the database is down: the last values seen, else defaults."""
    return _cache["values"] if _cache["values"] is not None else OrgSettings()


def save(session: Session, key: str, value: Any) -> None:
    """Store one setting; the caller commits. Unknown keys, and values outside the setting's type or
    bounds, raise InvalidInput (400) naming them."""
    value = checked(key, value)
    row = session.get(Setting, key) or Setting(key=key, value="")
    row.value = json.dumps(value)
    session.add(row)
    invalidate()


def invalidate() -> None:
    with _lock:
        _cache.update(at=0.0, values=None)
