"""The line manager's callback queue (T5, M1)."""
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from .models import CallbackTask, Incident, User

OPEN_STATUSES = ("open", "claimed")


def teams_managed(session: Session, manager: User) -> list[int]:
    """A line manager's own team plus the teams of the agents who report to them."""
    teams = set(session.scalars(select(User.team_id).where(User.manager_id == manager.id, User.team_id.is_not(None))))
    if manager.team_id:
        teams.add(manager.team_id)
    return sorted(teams)


def queue_for(session: Session, manager: User, now: datetime) -> list[CallbackTask]:
    """Open tasks for the manager's teams, most urgent first: overdue, then serious incidents,
    then by due time; ties by when the need arose (a release or retry keeps its place)."""
    teams = teams_managed(session, manager)
    overdue = case((CallbackTask.due_at < now, 0), else_=1)
    serious = case((Incident.serious.is_(True), 0), else_=1)
    return list(session.scalars(
        select(CallbackTask).outerjoin(Incident, Incident.id == CallbackTask.incident_id)
        .where(CallbackTask.status.in_(OPEN_STATUSES),
               or_(CallbackTask.team_id.in_(teams), CallbackTask.manager_id == manager.id))
        .order_by(overdue, serious, CallbackTask.due_at, CallbackTask.need_arose_at, CallbackTask.id)))


def task_json(task: CallbackTask, now: datetime) -> dict:
    return {
        "id": task.id, "status": task.status, "case_reference": task.case_reference, "caller": task.caller,
        "due_at": task.due_at.isoformat(), "overdue": task.due_at < now, "need_arose_at": task.need_arose_at.isoformat(),
        "incident_id": task.incident_id, "handler_id": task.handler_id, "manager_id": task.manager_id,
        "claimed_by_id": task.claimed_by_id, "attempts": task.attempts, "outcome": task.outcome,
    }
