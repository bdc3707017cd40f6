"""The staff API's JSON for the register's reads (R4, R9) and a caller's flags (R1, R9, R10, C2, C3): the
domain returns typed results (call_flows/register/privacy.py, call_flows/calls/callers.py), the views
and pages shape them here. Times are ISO 8601 as stored."""
from datetime import datetime
from typing import Any

from call_flows.calls.callers import CallerFlags
from call_flows.clock import iso_utc
from call_flows.models import Base
from call_flows.register.letters import Letter
from call_flows.register.privacy import EntrySummary, EntryView, SubjectAccess
from call_flows.register.reviews import ReviewDue


def row_json(obj: Base, *skip: str) -> dict[str, Any]:
    """A stored row as it is: every column but `skip`, datetimes ISO 8601, other values unchanged."""
    out: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if column.key in skip:
            continue
        value = getattr(obj, column.key)
        out[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def entry_summary_json(summary: EntrySummary) -> dict[str, Any]:
    """R4 content that any manager may see (no minutes, no justification)."""
    entry = summary.entry
    return {"id": entry.id, "customer_id": entry.customer_id, "customer": summary.customer, "status": entry.status,
            "marker": entry.marker, "precautions": entry.precautions, "source": entry.source,
            "key_contact": entry.key_contact, "reporting_service": entry.reporting_service,
            "notified": entry.notified, "added_on": iso_utc(entry.added_on),
            "last_reviewed_on": iso_utc(entry.last_reviewed_on), "review_due": iso_utc(summary.review_due),
            "expires_at": iso_utc(entry.expires_at), "meet_by": iso_utc(entry.meet_by), "ended_at": iso_utc(entry.ended_at),
            "end_reason": entry.end_reason}


def entry_json(view: EntryView) -> dict[str, Any]:
    """One entry as its reader may see it (R9): the summary and numbers; for the panel also the incident,
    the customer's details, the decision, the letter (without its body), appeals and reviews."""
    out = {**entry_summary_json(view.summary), "phones": view.phones}
    panel = view.panel
    if panel is not None:
        out.update(incident_id=panel.incident_id, summary=panel.summary, address=panel.address,
                   email=panel.email, case_references=panel.case_references,
                   decision=row_json(panel.decision, "entry_id") if panel.decision else None,
                   letter=row_json(panel.letter, "entry_id", "body") if panel.letter else None,
                   appeals=[row_json(a, "entry_id") for a in panel.appeals],
                   reviews=[row_json(r, "entry_id") for r in panel.reviews])
    return out


def review_due_json(due: ReviewDue) -> dict[str, Any]:
    """An entry due for review (R6): its review date and expiry ISO 8601."""
    return {"id": due.id, "customer": due.customer, "marker": due.marker, "review_due": due.review_due.isoformat(),
            "expires_at": due.expires_at.isoformat() if due.expires_at else None}


def letter_json(letter: Letter) -> dict[str, Any]:
    """The customer's letter (R5) with its paragraphs; `print_url` its print-ready page."""
    return {"entry_id": letter.entry_id, "due_at": iso_utc(letter.due_at), "sent_at": iso_utc(letter.sent_at),
            "exemption": letter.exemption, "exemption_justification": letter.exemption_justification,
            "body": letter.body, "paragraphs": letter.paragraphs,
            "print_url": f"/register/entries/{letter.entry_id}/letter"}


def subject_access_json(export: SubjectAccess) -> dict[str, Any]:
    """R9: everything held about a customer, each row with all its columns."""
    return {
        "generated_at": export.generated_at.isoformat(),
        "customer": row_json(export.customer),
        "phones": export.phones,
        "register_entries": [row_json(e) for e in export.register_entries],
        "panel_decisions": [row_json(r) for r in export.panel_decisions],
        "letters": [row_json(r) for r in export.letters],
        "appeals": [row_json(r) for r in export.appeals],
        "reviews": [row_json(r) for r in export.reviews],
        "restrictions": [row_json(r) for r in export.restrictions],
        "concern_notices": [row_json(n) for n in export.concern_notices],
        "access_log": [row_json(a) for a in export.access_log],
    }


def caller_flags_json(found: CallerFlags) -> dict[str, Any]:
    """A caller's flags (GET /callers/{phone}) as the domain trimmed them for the role (R9 least data):
    handlers get the marker, precautions and the restriction's terms; managers also the entry's id and
    dates and the named officer."""
    register: dict[str, Any] | None = None
    restriction: dict[str, Any] | None = None
    if found.register is not None:
        register = {"marker": found.register.marker, "precautions": found.register.precautions}
        if (held := found.register.held) is not None:
            register.update(entry_id=held.entry_id, added_on=iso_utc(held.added_on),
                            last_reviewed_on=iso_utc(held.last_reviewed_on))
    if (active := found.restriction) is not None:
        restriction = {"kind": active.kind, "detail": active.detail}
        if active.officer_shown:
            restriction["named_officer_id"] = active.named_officer_id
    return {
        "caller": found.caller,
        "register": register,
        "restriction": restriction,
        "signals": {
            "warnings": found.warnings, "terminations": found.terminations, "window_days": found.window_days,
            "calls_today": found.calls_today, "call_seconds_today": found.call_seconds_today,
            "flags": found.flags,
        },
        "recent_calls": [{"call_sid": r.call_sid, "started_at": iso_utc(r.started_at), "status": r.status,
                          "duration_s": r.duration_s} for r in found.recent_calls],
    }
