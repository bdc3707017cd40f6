"""Deadlines watched by a periodic job (`workers/deadlines.py`), each step idempotent by its keys:

- a callback task past its due time is flagged overdue and the team's supervisors are told (T5);
- a no_answer retry that has come due is put back in front of the manager (M1);
- an idle claim expires and the task returns to the queue;
- I5: an incident no manager picked up within the window goes to the area manager and union H&S reps;
- I7: a serious incident (threat of violence, customer known) goes to the senior officer, whose
  decision about the police is recorded (`record_police_decision`).
"""
from collections.abc import Sequence
from typing import Any
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.orm import Session

from call_flows.callbacks.work import expire_idle_claims
from call_flows.errors import Conflict, Forbidden
from call_flows.incidents.records import get as get_incident, summary
from call_flows.labels import label
from call_flows.jobs.bulk import queue_emails
from call_flows.jobs.mail import addresses, queue_email
from call_flows.models import Call, CallbackTask, Incident, User
from call_flows.settings import OrgSettings
from call_flows.vocabulary import IncidentStatus, OPEN_TASKS, Recipient, Role, SENIORS, TaskStatus

POLICE_DECISIONS = ("police_informed", "police_not_needed")
PER_TICK = 250  # overdue callbacks or retries handled by one tick at most; the rest at the next (each once)


def staff_address(username: str, settings: OrgSettings) -> str:
    """The address of a member of staff by their username (`staff_email_format`)."""
    return str(settings.staff_email_format).format(username=username)


def _due_tasks(session: Session, values: dict[str, Any], *where: ColumnElement[bool]) -> Sequence[Row[*tuple[Any, ...]]]:
    """Up to PER_TICK callback tasks matching `where`, the earliest due first, updated with `values`
    in one statement (so the next tick does not find them again), with their call's CallSid and their
    manager's username: three statements whatever their number (issue 13 item 5)."""
    tasks = session.execute(select(CallbackTask.id, CallbackTask.team_id, CallbackTask.case_reference,
                                   CallbackTask.due_at, CallbackTask.status, CallbackTask.attempts,
                                   Call.call_sid, User.username.label("manager"))
                            .outerjoin(Call, Call.id == CallbackTask.call_id)
                            .outerjoin(User, User.id == CallbackTask.manager_id)
                            .where(*where).order_by(CallbackTask.due_at, CallbackTask.id).limit(PER_TICK)).all()
    if tasks:
        session.execute(update(CallbackTask).where(CallbackTask.id.in_([t.id for t in tasks])).values(**values))
    return tasks


def flag_overdue(session: Session, now: datetime, settings: OrgSettings) -> list[int]:
    """T5: a callback task past its due time is flagged overdue and its team's supervisors told, once."""
    tasks = _due_tasks(session, {"overdue_notified_at": now}, CallbackTask.status.in_(OPEN_TASKS),
                       CallbackTask.due_at < now, CallbackTask.overdue_notified_at.is_(None))
    supervisors: dict[int, list[str]] = {}
    for supervisor in session.execute(select(User.team_id, User.username).where(
            User.role == Role.SUPERVISOR, User.active, User.team_id.in_({t.team_id for t in tasks})).order_by(User.id)):
        supervisors.setdefault(supervisor.team_id, []).append(supervisor.username)
    queue_emails(session, [  # the supervisor reads the task on the call's timeline (/calls/<CallSid>)
        {"key": f"callback-{task.id}-overdue-to-{address}", "purpose": "overdue", "recipient": Recipient.SUPERVISOR,
         "to": address, "subject": f"Callback overdue: case {task.case_reference}",
         "body": f"The callback task {task.id} for case {task.case_reference} was due at "
                 f"{task.due_at:%Y-%m-%d %H:%M} UTC and is still {task.status}.\n"
                 f"Line manager: {task.manager or 'none assigned'}.\n"
                 f"Attempts so far: {task.attempts}.\n", "task_id": task.id,
         "link": f"/calls/{task.call_sid}" if task.call_sid else "/calls"}
        for task in tasks for address in (staff_address(name, settings) for name in supervisors.get(task.team_id, []))], now)
    return [t.id for t in tasks]


def retries_due(session: Session, now: datetime, settings: OrgSettings) -> list[int]:
    """M1: a no_answer retry that has come due is put back in front of the manager, once."""
    tasks = _due_tasks(session, {"retry_at": None}, CallbackTask.status == TaskStatus.OPEN,
                       CallbackTask.retry_at.is_not(None), CallbackTask.retry_at <= now)
    queue_emails(session, [
        {"key": f"callback-{task.id}-retry-{task.attempts}-to-{address}", "purpose": "retry_due",
         "recipient": Recipient.MANAGER, "to": address, "subject": f"Callback retry due: case {task.case_reference}",
         "body": f"Attempt {task.attempts + 1} of {settings.callback_max_attempts} to call the customer "
                 f"back on case {task.case_reference} is now due.\n", "task_id": task.id,
         "link": f"/callbacks#task-{task.id}"}
        for task in tasks if task.manager for address in [staff_address(task.manager, settings)]], now)
    return [t.id for t in tasks]


def escalate_unpicked(session: Session, now: datetime, settings: OrgSettings) -> list[int]:
    """I5: the 24-hour rule (configurable window)."""
    cutoff = now - timedelta(hours=settings.incident_escalation_hours)
    incidents = list(session.scalars(select(Incident).where(
        Incident.status == IncidentStatus.OPEN, Incident.picked_up_at.is_(None), Incident.escalated_at.is_(None),
        Incident.opened_at <= cutoff)))
    for incident in incidents:
        incident.escalated_at = now
        body = (f"No manager has picked up this incident record within "
                f"{settings.incident_escalation_hours} hours (I5).\n\n" + summary(session, incident))
        for recipient, setting in ((Recipient.AREA_MANAGER, "recipient_area_manager"),
                                   (Recipient.UNION_HS_REPS, "recipient_union_hs_reps")):
            for address in addresses(getattr(settings, setting)):
                queue_email(session, f"incident-{incident.id}-i5-to-{address}", "escalation_i5", recipient, address,
                            f"Incident {incident.id} not picked up within "
                            f"{settings.incident_escalation_hours} hours", body, now,
                            incident_id=incident.id, link=f"/incidents/{incident.id}")
    return [i.id for i in incidents]


def escalate_serious(session: Session, now: datetime, settings: OrgSettings) -> list[int]:
    """I7: a threat of violence from a customer whose identity is known goes to the senior officer."""
    incidents = list(session.scalars(
        select(Incident).join(Call, Call.id == Incident.call_id).where(
            Incident.serious.is_(True), Incident.serious_escalated_at.is_(None), Call.caller.is_not(None))))
    for incident in incidents:
        incident.serious_escalated_at = now
        body = ("A customer whose identity is known threatened violence (I7). Please decide whether to "
                f"involve the police and record your decision on incident {incident.id}.\n\n"
                + summary(session, incident))
        for address in addresses(settings.recipient_senior_officer):
            queue_email(session, f"incident-{incident.id}-i7-to-{address}", "serious_i7", Recipient.SENIOR_OFFICER, address,
                        f"Serious incident {incident.id}: threat of violence", body, now, incident_id=incident.id,
                        link=f"/incidents/{incident.id}")
    return [i.id for i in incidents]


def check(session: Session, now: datetime, settings: OrgSettings) -> dict[str, Any]:
    """One pass of every deadline check; the caller commits (and dispatches the emails)."""
    return {"claims_expired": expire_idle_claims(session, now, settings.claim_idle_minutes),
            "overdue": flag_overdue(session, now, settings), "retries_due": retries_due(session, now, settings),
            "escalated_i5": escalate_unpicked(session, now, settings),
            "escalated_i7": escalate_serious(session, now, settings)}


def record_police_decision(session: Session, incident_id: int, user: User, decision: str, note: str | None, now: datetime,
                           settings: OrgSettings) -> Incident:
    """I7: the senior officer (a supervisor in the software) decides on police involvement; the
    decision is recorded and the next level (Grade 7) informed."""
    if user.role not in SENIORS:
        raise Forbidden("a senior officer (supervisor) records the decision about the police",
                        code="senior_officer_decides")
    incident = get_incident(session, incident_id, user)
    if not incident.serious:
        raise Conflict("only a serious incident (I7) needs a decision about the police", code="not_serious")
    if incident.police_decision:
        raise Conflict("the decision about the police was already recorded", code="decision_recorded")
    incident.police_decision, incident.police_decision_note = decision, note
    incident.police_decided_by_id, incident.police_decided_at = user.id, now
    for address in addresses(settings.recipient_senior_officer_next_level):
        queue_email(session, f"incident-{incident.id}-i7-decision-to-{address}", "serious_i7_decision",
                    Recipient.SENIOR_OFFICER_NEXT_LEVEL, address, f"Serious incident {incident.id}: police decision",
                    f"Decision: {label('police_decision', decision)} (by {user.shown_name}).\nReason: {note}\n\n"
                    + summary(session, incident), now, incident_id=incident.id, link=f"/incidents/{incident.id}")
    return incident
