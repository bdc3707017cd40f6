"""What the line manager sees for each task on the /callbacks page (M1: the caller, case reference,
handler, warnings given and case notes, before calling back). Read-only."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.callbacks.dialling import script
from call_flows.callbacks.queue import queue_for, scope
from call_flows.incidents.cases import notes_for
from call_flows.clock import as_utc
from call_flows.register.shown import markers_shown
from call_flows.incidents.cases import SeenNote
from call_flows.models import Call, CallbackTask, CallWarning, Incident, User
from call_flows.staff.people import shown_names
from call_flows.calls.status import why_ended
from call_flows.vocabulary import CLOSED_TASKS, Role


@dataclass(frozen=True)
class QueueRow:
    """A task on the manager's queue (M1) with what they read before calling back: the shown names of
    its handler, claimant and manager; whether it is theirs, overdue, serious (I7); the register marker
    and need (T2) noted on the call; the incident, the warnings (oldest first) and the case notes they
    may read; the callback call and the script; why that call is over (None: not over, no warn or
    terminate controls once it is, CONTRACT call_ended) and whether a retry is pending."""

    task: CallbackTask
    handler: str | None
    claimant: str | None
    manager: str | None
    mine: bool
    overdue: bool
    serious: bool
    marker: int | None
    needs_note: str | None
    incident: Incident | None
    warnings: list[CallWarning]
    notes: list[SeenNote]
    dial_call: Call | None
    script: str
    dial_call_over: str | None
    retry_pending: bool


def queue_view(session: Session, user: User, now: datetime, organisation: str) -> list[QueueRow]:
    """The manager's queue (queue_for's order), each task with what the page shows of it."""
    tasks = queue_for(session, user, now)
    names = shown_names(session, {t.handler_id for t in tasks} | {t.claimed_by_id for t in tasks}
                   | {t.manager_id for t in tasks})
    rows: list[QueueRow] = []
    for task in tasks:
        call = session.get(Call, task.call_id) if task.call_id else None
        incident = session.get(Incident, task.incident_id) if task.incident_id else None
        dial_call = session.get(Call, task.dial_call_id) if task.dial_call_id else None
        warnings = list(session.scalars(select(CallWarning).where(CallWarning.call_id == task.call_id)
                                        .order_by(CallWarning.created_at))) if task.call_id else []
        rows.append(QueueRow(
            task, names.get(task.handler_id) if task.handler_id else None,
            names.get(task.claimed_by_id) if task.claimed_by_id else None,
            names.get(task.manager_id) if task.manager_id else None, task.claimed_by_id == user.id,
            task.due_at < now, bool(incident and incident.serious),
            call.ring_marker if call else None, call.needs_note if call else None,
            incident, warnings, notes_for(session, task.case_reference, user), dial_call, script(user, organisation),
            why_ended(session, dial_call) if dial_call else None, bool(task.retry_at and task.retry_at > now)))
    # R9: the register markers shown on the queue, logged once per task for this manager.
    markers_shown(session, user, [(row.task.caller, row.marker, as_utc(row.task.need_arose_at))
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
