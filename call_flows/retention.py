"""R9 "kept no longer than necessary": the retention purge for everything outside the register.

Each kind of record has an organisation setting `retention_<kind>_days` (defaults and reasons in
the README, "Retention"). Past its period a record is deleted, or reduced to what carries no
personal data, so that:

- I6: incident records are never deleted; their caller shows only the last 4 digits (the call is reduced);
- I8: warnings, terminations, incidents and callback tasks keep their time, team and reason, so trends
  count them exactly for any window;
- R10/C2: a caller's number on calls, warnings and terminations is kept at least `repeat_window_days`,
  whatever the retention setting, so repeat-caller signals stay honest.

Order matters for foreign keys: a case note is unlinked from its termination before it is deleted,
and a call is deleted only when no warning, termination, case note, incident or callback task
refers to it (those calls are reduced instead). Every step is idempotent; the caller commits.
"""
from typing import Any
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from call_flows.models import (Call, CallbackTask, CallWarning, CaseNote, EmailDelivery, Incident, PlatformAction,
                               Termination, WebhookReceipt)
from call_flows.models.imports import RegisterImportRun
from call_flows.phone import mask
from call_flows.row_counts import changed
from call_flows.vocabulary import OPEN_TASKS
from call_flows.settings import OrgSettings

CALL_BATCH = 5000  # calls handled per pass: the first run on a large history is spread over several ticks


def cutoff(now: datetime, settings: OrgSettings, kind: str, floor_days: int = 1) -> datetime:
    """The moment before which records of `kind` are past retention (the period is at least `floor_days`)."""
    return now - timedelta(days=max(getattr(settings, f"retention_{kind}_days"), floor_days, 1))


def purge(session: Session, now: datetime, settings: OrgSettings) -> dict[str, Any]:
    """One pass over every kind. Returns how many rows each step deleted or reduced."""
    r10 = settings.repeat_window_days  # R10: numbers stay while the signal window can see them
    return {
        "webhook_receipts": _delete(session, WebhookReceipt, WebhookReceipt.received_at,
                                    cutoff(now, settings, "webhook_receipts")),
        "platform_actions": _delete(session, PlatformAction, PlatformAction.created_at,
                                    cutoff(now, settings, "platform_actions")),
        "email_bodies": reduce_sent_emails(session, cutoff(now, settings, "mail")),
        "import_runs": reduce_import_runs(session, cutoff(now, settings, "import_runs")),
        "case_notes": delete_case_notes(session, cutoff(now, settings, "case_notes")),
        "callback_tasks": reduce_callback_tasks(session, cutoff(now, settings, "callback_tasks")),
        "warnings": _reduce(session, CallWarning, CallWarning.created_at, cutoff(now, settings, "warnings", r10),
                            caller=None, detail=None),
        "terminations": _reduce(session, Termination, Termination.created_at,
                                cutoff(now, settings, "terminations", r10), caller=None, immediate_detail=None),
        **purge_calls(session, cutoff(now, settings, "calls", r10), now),
    }


def _delete(session: Session, model: type[Any], column: Any, before: datetime) -> int:
    return changed(session.execute(delete(model).where(column <= before)))


def _reduce(session: Session, model: type[Any], column: Any, before: datetime, **cleared: None) -> int:
    """Set the personal columns to NULL on rows older than `before` that still hold any of them."""
    holding = or_(*(getattr(model, name).is_not(None) for name in cleared))
    return changed(session.execute(update(model).where(column <= before, holding).values(**cleared)
                                   .execution_options(synchronize_session=False)))


def reduce_sent_emails(session: Session, before: datetime) -> int:
    """Bodies of emails sent before `before` are emptied (the delivery row, its status and subject stay
    on the incident page). Unsent ones keep their body so the outbox can still send them."""
    return changed(session.execute(update(EmailDelivery).where(EmailDelivery.status == "sent",
                                                               EmailDelivery.sent_at <= before,
                                                               EmailDelivery.body != "").values(body="")
                                   .execution_options(synchronize_session=False)))


def reduce_import_runs(session: Session, before: datetime) -> int:
    """A finished register import keeps its counts; its error and note text (rows may quote names and
    numbers) and any uploaded text left behind are removed."""
    runs = session.scalars(select(RegisterImportRun).where(RegisterImportRun.finished_at <= before))
    reduced = 0
    for run in runs:
        if run.errors or run.notes or run.csv_text is not None:
            run.errors, run.notes, run.csv_text = [], [], None
            reduced += 1
    return reduced


def delete_case_notes(session: Session, before: datetime) -> int:
    """Case notes older than `before` are deleted; a termination's link to its note is cleared first."""
    old = select(CaseNote.id).where(CaseNote.created_at <= before)
    session.execute(update(Termination).where(Termination.case_note_id.in_(old)).values(case_note_id=None)
                    .execution_options(synchronize_session=False))
    return changed(session.execute(delete(CaseNote).where(CaseNote.created_at <= before)
                                   .execution_options(synchronize_session=False)))


def reduce_callback_tasks(session: Session, before: datetime) -> int:
    """A task closed (or cancelled) before `before` loses the customer's number, the outcome note and the
    cancel reason; its times stay for the T5 deadline trends. Open and claimed tasks are never touched."""
    return changed(session.execute(update(CallbackTask).where(
        CallbackTask.status.not_in(OPEN_TASKS), CallbackTask.need_arose_at <= before,
        or_(CallbackTask.closed_at.is_(None), CallbackTask.closed_at <= before),
        or_(CallbackTask.caller.is_not(None), CallbackTask.outcome_note.is_not(None),
            CallbackTask.cancel_reason.is_not(None)))
        .values(caller=None, outcome_note=None, cancel_reason=None)
        .execution_options(synchronize_session=False)))


def _referenced(call_id_column: Any) -> ColumnElement[bool]:
    """A call that some record still points at (it is reduced, never deleted)."""
    return or_(*(exists().where(column == call_id_column) for column in (
        CallWarning.call_id, Termination.call_id, CaseNote.call_id, Incident.call_id, CallbackTask.call_id,
        CallbackTask.dial_call_id)))


def purge_calls(session: Session, before: datetime, now: datetime, batch: int = CALL_BATCH) -> dict[str, Any]:
    """Calls that started before `before`: deleted when nothing refers to them, else reduced (the number
    to its last 4 digits in `caller_raw`, `caller` and the T2 note cleared, `purged_at` set)."""
    ids = list(session.scalars(select(Call.id).where(Call.purged_at.is_(None), Call.started_at <= before)
                               .order_by(Call.started_at).limit(batch)))
    if not ids:
        return {"calls_deleted": 0, "calls_reduced": 0}
    kept = set(session.scalars(select(Call.id).where(Call.id.in_(ids), _referenced(Call.id))))
    gone = [i for i in ids if i not in kept]
    if gone:
        session.execute(delete(Call).where(Call.id.in_(gone)).execution_options(synchronize_session=False))
    for call in session.scalars(select(Call).where(Call.id.in_(kept))):
        call.caller_raw = mask(call.caller) if call.caller else call.caller_kind
        call.caller, call.needs_note, call.purged_at = None, None, now
    session.flush()
    return {"calls_deleted": len(gone), "calls_reduced": len(kept)}
