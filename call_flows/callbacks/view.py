"""What the line manager sees for each task on the /callbacks page (M1: the caller, case reference,
handler, warnings given and case notes, before calling back). Read-only."""
from typing import Any
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.callbacks.dialling import script
from call_flows.callbacks.queue import queue_for, scope
from call_flows.incidents.cases import notes_for
from call_flows.clock import as_utc
from call_flows.register.shown import markers_shown
from call_flows.models import Call, CallbackTask, CallWarning, Incident, User
from call_flows.staff.people import shown_names
from call_flows.calls.status import why_ended
from call_flows.vocabulary import CLOSED_TASKS, Role


def queue_view(session: Session, user: User, now: datetime, organisation: str) -> list[dict[str, Any]]:
    tasks = queue_for(session, user, now)
    names = shown_names(session, {t.handler_id for t in tasks} | {t.claimed_by_id for t in tasks}
                   | {t.manager_id for t in tasks})
    rows: list[dict[str, Any]] = []
    for task in tasks:
        call = session.get(Call, task.call_id) if task.call_id else None
        incident = session.get(Incident, task.incident_id) if task.incident_id else None
        dial_call = session.get(Call, task.dial_call_id) if task.dial_call_id else None
        warnings = list(session.scalars(select(CallWarning).where(CallWarning.call_id == task.call_id)
                                        .order_by(CallWarning.created_at))) if task.call_id else []
        rows.append({
            "task": task, "handler": names.get(task.handler_id) if task.handler_id else None,
            "claimant": names.get(task.claimed_by_id) if task.claimed_by_id else None,
            "manager": names.get(task.manager_id) if task.manager_id else None, "mine": task.claimed_by_id == user.id,
            "overdue": task.due_at < now, "serious": bool(incident and incident.serious),
            "marker": call.ring_marker if call else None, "needs_note": call.needs_note if call else None,
            "incident": incident, "warnings": warnings, "notes": notes_for(session, task.case_reference, user),
            "dial_call": dial_call, "script": script(user, organisation),
            # no warn or terminate controls once the callback call is over (CONTRACT call_ended)
            "dial_call_over": why_ended(session, dial_call) if dial_call else None,
            "retry_pending": bool(task.retry_at and task.retry_at > now),
        })
    # R9: the register markers shown on the queue, logged once per task for this manager.
    markers_shown(session, user, [(row["task"].caller, row["marker"], as_utc(row["task"].need_arose_at))
                                  for row in rows], now, "callback_queue")
    return rows


def recently_closed(session: Session, user: User, limit: int = 10) -> list[CallbackTask]:
    teams, managers = scope(session, user)
    return list(session.scalars(
        select(CallbackTask).where(CallbackTask.status.in_(CLOSED_TASKS),
                                   (CallbackTask.team_id.in_(teams)) | (CallbackTask.manager_id.in_(managers)))
        .order_by(CallbackTask.closed_at.desc(), CallbackTask.id.desc()).limit(limit)))


def deputy_choices(session: Session, user: User) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.LINE_MANAGER, User.active, User.id != user.id)
                                .order_by(User.username)))
