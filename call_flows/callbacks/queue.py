"""The line manager's callback queue (T5, M1)."""
from typing import Any
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from call_flows.models import Call, CallbackTask, Incident, User
from call_flows.vocabulary import OPEN_TASKS



def teams_managed(session: Session, manager: User) -> list[int]:
    """A line manager's own team plus the teams of the agents who report to them."""
    teams = set(session.scalars(select(User.team_id).where(User.manager_id == manager.id, User.team_id.is_not(None))))
    if manager.team_id:
        teams.add(manager.team_id)
    return sorted(t for t in teams if t is not None)


def deputising_for(session: Session, user: User) -> list[User]:
    """Managers who have handed their queue to `user` while they are away (issue 4, item 7)."""
    return list(session.scalars(select(User).where(User.deputy_id == user.id, User.active)))


def scope(session: Session, user: User) -> tuple[list[int], list[int]]:
    """The teams and manager ids whose tasks `user` works: their own, plus any they deputise for."""
    teams, managers = set(teams_managed(session, user)), {user.id}
    for absent in deputising_for(session, user):
        teams.update(teams_managed(session, absent))
        managers.add(absent.id)
    return sorted(teams), sorted(managers)


def queue_for(session: Session, manager: User, now: datetime) -> list[CallbackTask]:
    """Open tasks for the manager's teams, most urgent first: overdue, then serious incidents and
    higher register markers (1 = violent), then by due time; ties by when the need arose (a
    release, retry or reassignment keeps its place: it never reorders by when a task was touched)."""
    teams, managers = scope(session, manager)
    return _urgent_first(session, now, or_(CallbackTask.team_id.in_(teams), CallbackTask.manager_id.in_(managers)))


def every_queue(session: Session, now: datetime) -> list[CallbackTask]:
    """Every team's open tasks, in the same order as `queue_for` (an administrator's read-only view)."""
    return _urgent_first(session, now)


def _urgent_first(session: Session, now: datetime, *where: Any) -> list[CallbackTask]:
    overdue = case((CallbackTask.due_at < now, 0), else_=1)
    serious = case((Incident.serious.is_(True), 0), else_=1)
    marker = func.coalesce(Call.ring_marker, 9)
    return list(session.scalars(
        select(CallbackTask).outerjoin(Incident, Incident.id == CallbackTask.incident_id)
        .outerjoin(Call, Call.id == CallbackTask.call_id)
        .where(CallbackTask.status.in_(OPEN_TASKS), *where)
        .order_by(overdue, serious, marker, CallbackTask.due_at, CallbackTask.need_arose_at, CallbackTask.id)))

