"""The staff API's JSON for incident records, case notes and callback tasks (CONTRACT): the domain
returns its models, the views shape them here. Times are ISO 8601 (UTC where the model keeps a zone)."""
from datetime import datetime
from typing import Any

from call_flows.calls.board import RECENT_END, Board
from call_flows.calls.live_card import card_json  # one card shape: the board's, the console's and live events'
from call_flows.calls.console import Console, NotePrefill, OwnCall, RegisterDetail
from call_flows.calls.detail import CallDetail
from call_flows.calls.recovery import Recovering
from call_flows.calls.signals import CallerSignals
from call_flows.calls.history import HistoryPage
from call_flows.clock import as_utc, iso_utc
from call_flows.labels import label
from call_flows.phone import mask
from call_flows.incidents.cases import SeenNote
from call_flows.jobs.mail import Delivery
from call_flows.register.panel import Pending
from call_flows.models import Call, CallbackTask, Incident, RegisterCount
from call_flows.settings import OrgSettings
from call_flows.vocabulary import NoteField


def incident_json(incident: Incident) -> dict[str, Any]:
    """An incident record (I1-I7) with its fields (`details`) and its escalations."""
    return {"id": incident.id, "status": incident.status, "case_reference": incident.case_reference,
            "call_id": incident.call_id, "team_id": incident.team_id, "staff_id": incident.staff_id,
            "serious": incident.serious, "opened_at": iso_utc(incident.opened_at), "details": incident.details or {},
            "completed_at": iso_utc(incident.completed_at), "completed_by_id": incident.completed_by_id,
            "picked_up_at": iso_utc(incident.picked_up_at), "acknowledged_at": iso_utc(incident.acknowledged_at),
            "escalated_at": iso_utc(incident.escalated_at), "serious_escalated_at": iso_utc(incident.serious_escalated_at),
            "police_decision": incident.police_decision, "police_decision_note": incident.police_decision_note,
            "police_decided_at": iso_utc(incident.police_decided_at)}


def note_json(seen: SeenNote) -> dict[str, Any]:
    """A case note (T4, M1, M3): `known` what the service filled in, `fields` what staff wrote."""
    note = seen.note
    return {"id": note.id, "case_reference": note.case_reference, "kind": note.kind, "author": seen.author,
            "author_name": seen.author_name,
            "created_at": note.created_at.isoformat(), "known": note.known, "fields": note.fields}


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    """An email about an incident record (I4, I5, I7) and its delivery state."""
    d = delivery
    return {"id": d.id, "purpose": d.purpose, "recipient": d.recipient, "to": d.to, "subject": d.subject,
            "status": d.status, "attempts": d.attempts, "last_error": d.last_error,
            "sent_at": d.sent_at.isoformat() if d.sent_at else None}


def task_json(task: CallbackTask, now: datetime) -> dict[str, Any]:
    """A callback task (T5, M1, M2); `overdue` as of `now`."""
    return {
        "id": task.id, "status": task.status, "case_reference": task.case_reference, "caller": task.caller,
        "due_at": task.due_at.isoformat(), "overdue": task.due_at < now, "need_arose_at": task.need_arose_at.isoformat(),
        "incident_id": task.incident_id, "handler_id": task.handler_id, "manager_id": task.manager_id,
        "claimed_by_id": task.claimed_by_id, "attempts": task.attempts, "outcome": task.outcome,
        "claimed_at": iso_utc(task.claimed_at), "retry_at": iso_utc(task.retry_at), "closed_at": iso_utc(task.closed_at),
        "cancel_reason": task.cancel_reason, "team_id": task.team_id,
    }


THRESHOLD_KEYS = ("repeat_window_days", "repeat_warnings_threshold", "repeat_terminations_threshold",
                  "calls_per_day_threshold", "call_seconds_per_day_threshold", "long_call_seconds")


def thresholds_json(settings: OrgSettings) -> dict[str, Any]:
    """The R10/C2 signal thresholds of the organisation settings (days, counts, seconds)."""
    return {k: getattr(settings, k) for k in THRESHOLD_KEYS}


def caller_signals_json(row: CallerSignals) -> dict[str, Any]:
    """A caller with R10/C2 signals: counts in the window and today, seconds, `masked` the number's last 4."""
    return {"caller": row.caller, "warnings": row.warnings, "terminations": row.terminations, "calls": row.calls,
            "call_seconds": row.call_seconds, "calls_today": row.calls_today,
            "call_seconds_today": row.call_seconds_today, "longest_call_s": row.longest_call_s,
            "masked": mask(row.caller), "customer": row.customer, "signals": row.signals}


def count_json(row: RegisterCount) -> dict[str, Any]:
    """One anonymised count left by the retention purge (R9): month `YYYY-MM`, marker, source, status."""
    return {"month": row.month, "marker": row.marker, "source": row.source, "final_status": row.final_status,
            "count": row.count}


def pending_json(pending: Pending) -> dict[str, Any]:
    """A proposal awaiting the panel (R3): `meet_by` its meeting deadline (ISO 8601), `overdue` past it."""
    entry = pending.entry
    return {"id": entry.id, "customer": pending.customer, "incident_id": entry.incident_id, "summary": entry.summary,
            "proposed_at": entry.created_at.isoformat(), "meet_by": entry.meet_by.isoformat() if entry.meet_by else None,
            "overdue": pending.overdue}


def call_summary_json(call: Call, handler: str | None) -> dict[str, Any]:
    """The call without its lists (CONTRACT history shape): sid, caller (E.164 or null), caller_kind,
    status, ISO UTC times, handler's username, flags as at ring time (R1, R10, C3)."""
    return {
        "call_sid": call.call_sid, "caller": call.caller, "caller_kind": call.caller_kind, "status": call.status,
        "started_at": iso_utc(call.started_at), "answered_at": iso_utc(call.answered_at), "ended_at": iso_utc(call.ended_at),
        "handler": handler,
        "flags": {"marker": call.ring_marker, "signals": list(call.ring_signals or []),
                  "restricted": bool(call.ring_restricted)},
    }


def history_json(page: HistoryPage) -> dict[str, Any]:
    """A page of call history: `{"calls": [call summary...], "next_page": int | None}`."""
    return {"calls": [call_summary_json(row.call, row.handler) for row in page.calls], "next_page": page.next_page}


def call_json(found: CallDetail) -> dict[str, Any]:
    """One call (CONTRACT): its summary, warnings (T1) and termination (T3-T5), each with `platform_status`."""
    termination = found.termination
    return {
        **call_summary_json(found.call, found.handler.username if found.handler else None),
        "warnings": [{"id": w.id, "reason": w.reason, "created_at": iso_utc(w.created_at),
                      "platform_status": w.platform_status} for w in found.warnings],
        "termination": None if termination is None else {
            "id": termination.id, "immediate_reason": termination.immediate_reason,
            "platform_status": termination.platform_status, "case_note_id": termination.case_note_id,
            "incident_id": termination.incident_id, "callback_task_id": termination.callback_task_id},
    }


def recovering_json(period: Recovering) -> dict[str, Any]:
    """A handler in recovery time after a termination: `name` the shown name, times ISO 8601."""
    return {"user_id": period.user_id, "username": period.username, "name": period.name or period.username,
            "team_id": period.team_id, "team": period.team,
            "site": period.site, "started_at": period.started_at.isoformat(), "ends_at": period.ends_at.isoformat()}


def board_json(board: Board) -> dict[str, Any]:
    """The supervisor's board (CONTRACT /board): filters, teams watched, sites, serious incidents (I7),
    ringing and team call cards, who is in recovery time."""
    return {
        "at": board.at.isoformat(),
        "filters": {"team_id": board.team_id, "site": board.site},
        "teams": [{"id": t.id, "name": t.name, "site": t.site} for t in board.teams],
        "sites": sorted({t.site for t in board.teams if t.site}),
        "serious_incidents": [{"id": s.incident.id, "opened_at": as_utc(s.incident.opened_at).isoformat(),
                               "team": s.team, "handler": s.handler, "caller": s.caller,
                               "case_reference": s.incident.case_reference} for s in board.serious],
        "ringing": [card_json(c) for c in board.ringing],
        "calls": [card_json(c) for c in board.calls],
        "recovering": [recovering_json(r) for r in board.recovering],
    }


def register_detail_json(detail: RegisterDetail) -> dict[str, Any]:
    """R9: the precautions of the caller's entry in force and their restriction's terms (or None)."""
    active = detail.restriction
    return {"precautions": detail.precautions,
            "restriction": {"kind": active.kind, "kind_label": label("restriction", active.kind),
                            "detail": active.detail} if active else None}


def note_prefill_json(note: NotePrefill) -> dict[str, Any]:
    """T4: the case note's fields as the service fills them (the handler completes the empty ones) and `known`."""
    return {"case_reference": note.case_reference, NoteField.SPOKE_TO: "", NoteField.QUERY: "",
            NoteField.TOLD_CUSTOMER: note.told_customer, NoteField.CUSTOMER_SAID_OR_DID: note.customer_said_or_did,
            "known": {"caller": note.caller, "call_started_at": note.call_started_at.isoformat(),
                      "handler": note.handler, "warnings": note.warnings}}


def own_call_json(own: OwnCall) -> dict[str, Any]:
    """The handler's own call: its board card with the full number, T2's need, the warnings with what
    the caller said, the register detail (R9), the final notice (T3) and the case note prefill (T4)."""
    call = own.call
    return {**card_json(own.card), "caller_full": call.caller, "needs_note": call.needs_note,
            "warnings": [{"reason": w.reason, "reason_label": label("warning_reason", w.reason),
                          "detail": w.detail, "at": as_utc(w.created_at).isoformat(),
                          "platform_status": w.platform_status} for w in own.warnings],
            **register_detail_json(own.register),
            "final_notice": {"text": own.final_notice, "recording": own.final_recording},
            "note": note_prefill_json(own.note)}


def console_json(console: Console) -> dict[str, Any]:
    """The handler's console (CONTRACT /console/state): their call, the ringing calls, recovery time,
    the messages callers hear (a recording or not) and how long an ended call stays on the board."""
    settings, period = console.settings, console.recovery
    return {
        "at": console.at.isoformat(),
        "call": own_call_json(console.call) if console.call else None,
        "ringing": [card_json(c) for c in console.ringing],
        "recovery": {"ends_at": as_utc(period.ends_at).isoformat(),
                     "minutes": settings.recovery_minutes} if period else None,
        "messages": {"warning": settings.warning_message, "termination": settings.termination_message,
                     "warning_recording": bool(settings.warning_recording_url),
                     "termination_recording": bool(settings.termination_recording_url),
                     "immediate_termination": settings.immediate_termination_message,
                     "immediate_termination_recording": bool(settings.immediate_termination_recording_url)},
        "recent_end_minutes": int(RECENT_END.total_seconds() // 60),
    }
