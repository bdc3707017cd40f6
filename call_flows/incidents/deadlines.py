"""Deadlines watched by a periodic job (`workers/deadlines.py`), each step idempotent by its keys:

- a callback task past its due time is flagged overdue and the team's supervisors are told (T5);
- a no_answer retry that has come due is put back in front of the manager (M1);
- an idle claim expires and the task returns to the queue;
- I5: an incident no manager picked up within the window goes to the area manager and union H&S reps;
- I7: a serious incident (threat of violence, customer known) goes to the senior officer, whose
  decision about the police is recorded (`record_police_decision`).
"""
from typing import Any
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.callbacks.work import expire_idle_claims
from call_flows.errors import Conflict, Forbidden
from call_flows.incidents.records import get as get_incident, summary
from call_flows.labels import label
from call_flows.jobs.mail import addresses, queue_email
from call_flows.models import Call, CallbackTask, Incident, User
from call_flows.settings import OrgSettings
from call_flows.vocabulary import IncidentStatus, OPEN_TASKS, Recipient, Role, SENIORS, TaskStatus

POLICE_DECISIONS = ("police_informed", "police_not_needed")


def staff_address(user: User, settings: OrgSettings) -> str:
    return str(settings.staff_email_format).format(username=user.username)


def flag_overdue(session: Session, now: datetime, settings: OrgSettings) -> list[int]:
    tasks = list(session.scalars(select(CallbackTask).where(
        CallbackTask.status.in_(OPEN_TASKS), CallbackTask.due_at < now,
        CallbackTask.overdue_notified_at.is_(None))))
    for task in tasks:
        task.overdue_notified_at = now
        supervisors = session.scalars(select(User).where(User.role == Role.SUPERVISOR, User.active,
                                                         User.team_id == task.team_id))
        call = session.get(Call, task.call_id) if task.call_id else None
        manager = session.get(User, task.manager_id) if task.manager_id else None
        for supervisor in supervisors:  # the supervisor reads the task on the call's timeline (/calls/<CallSid>)
            address = staff_address(supervisor, settings)
            queue_email(session, f"callback-{task.id}-overdue-to-{address}", "overdue", Recipient.SUPERVISOR, address,
                        f"Callback overdue: case {task.case_reference}",
                        f"The callback task {task.id} for case {task.case_reference} was due at "
                        f"{task.due_at:%Y-%m-%d %H:%M} UTC and is still {task.status}.\n"
                        f"Line manager: {manager.username if manager else 'none assigned'}.\n"
                        f"Attempts so far: {task.attempts}.\n", now, task_id=task.id,
                        link=f"/calls/{call.call_sid}" if call else "/calls")
    return [t.id for t in tasks]


def retries_due(session: Session, now: datetime, settings: OrgSettings) -> list[int]:
    tasks = list(session.scalars(select(CallbackTask).where(
        CallbackTask.status == TaskStatus.OPEN, CallbackTask.retry_at.is_not(None), CallbackTask.retry_at <= now)))
    for task in tasks:
        task.retry_at = None
        manager = session.get(User, task.manager_id) if task.manager_id else None
        if manager is not None:
            address = staff_address(manager, settings)
            queue_email(session, f"callback-{task.id}-retry-{task.attempts}-to-{address}", "retry_due", Recipient.MANAGER,
                        address, f"Callback retry due: case {task.case_reference}",
                        f"Attempt {task.attempts + 1} of {settings.callback_max_attempts} to call the customer "
                        f"back on case {task.case_reference} is now due.\n", now, task_id=task.id,
                        link=f"/callbacks#task-{task.id}")
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
