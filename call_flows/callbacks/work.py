"""Working the callback queue (T5, M1): claim, release, idle-claim expiry, reassign, cancel, deputy.

A claim is one conditional UPDATE, so when two managers claim at once exactly one row changes and
exactly one wins; the loser gets 409 `already_claimed`. Nothing here touches `need_arose_at`, so a
released, expired or reassigned task keeps its place in the queue.
"""
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from call_flows.callbacks.queue import scope
from call_flows.errors import AlreadyClaimed, Conflict, Forbidden, InvalidInput, NotFound
from call_flows.row_counts import changed
from call_flows.models import CallbackTask, Incident, User
from call_flows.validation import clean_text
from call_flows.vocabulary import OPEN_TASKS, Role, TaskStatus


def task_for(session: Session, task_id: int, user: User) -> CallbackTask:
    """The task if `user` may work it (their teams, a manager they deputise for; admins: any), else 404."""
    task = session.get(CallbackTask, task_id)
    if task is None:  # R9: the same answer as for another team's task, so existence does not leak
        raise NotFound(f"no callback task {task_id} in your teams")
    if user.role == Role.ADMIN:
        return task
    teams, managers = scope(session, user)
    if task.team_id in teams or task.manager_id in managers:
        return task
    raise NotFound(f"no callback task {task_id} in your teams")


def claimed_by_me(task: CallbackTask, user: User) -> None:
    if task.status != TaskStatus.CLAIMED or task.claimed_by_id != user.id:
        raise Forbidden("only the manager who has claimed this task may do this; claim it first",
                        code="not_claimant")


def _mark_picked_up(session: Session, task: CallbackTask, now: datetime) -> None:
    """I5: a manager has picked the incident up, so it is not escalated for want of one."""
    if task.incident_id:
        incident = session.get(Incident, task.incident_id)
        if incident and incident.picked_up_at is None:
            incident.picked_up_at = now


def claim(session: Session, task_id: int, user: User, now: datetime, idle_minutes: int) -> CallbackTask:
    """Claim an open task (or one whose claim went idle). Exactly one of concurrent claims wins."""
    task = task_for(session, task_id, user)
    cutoff = now - timedelta(minutes=idle_minutes)
    result = session.execute(
        update(CallbackTask)
        .where(CallbackTask.id == task.id,
               or_(CallbackTask.status == TaskStatus.OPEN,
                   and_(CallbackTask.status == TaskStatus.CLAIMED,
                        or_(CallbackTask.claimed_by_id == user.id, CallbackTask.claim_active_at < cutoff))))
        .values(status=TaskStatus.CLAIMED, claimed_by_id=user.id, claimed_at=now, claim_active_at=now)
        .execution_options(synchronize_session=False))
    session.refresh(task)
    if changed(result) != 1:
        if task.status not in OPEN_TASKS:
            raise Conflict(f"the task is {task.status}", code="task_closed")
        raise AlreadyClaimed("another manager has claimed this task")
    _mark_picked_up(session, task, now)
    return task


def release(session: Session, task_id: int, user: User, now: datetime) -> CallbackTask:
    """Hand a claimed task back to the queue, in its old place."""
    task = task_for(session, task_id, user)
    if user.role != Role.ADMIN:
        claimed_by_me(task, user)
    if task.dial_call_id:
        raise Conflict("record the outcome of the callback before releasing the task", code="callback_in_progress")
    task.status, task.claimed_by_id, task.claimed_at, task.claim_active_at = TaskStatus.OPEN, None, None, None
    return task


def expire_idle_claims(session: Session, now: datetime, idle_minutes: int) -> int:
    """A claim left idle for `idle_minutes` returns the task to the queue (not mid-callback)."""
    cutoff = now - timedelta(minutes=idle_minutes)
    result = session.execute(
        update(CallbackTask)
        .where(CallbackTask.status == TaskStatus.CLAIMED, CallbackTask.claim_active_at < cutoff,
               CallbackTask.dial_call_id.is_(None))
        .values(status=TaskStatus.OPEN, claimed_by_id=None, claimed_at=None, claim_active_at=None)
        .execution_options(synchronize_session=False))
    return changed(result)


def cancel(session: Session, task_id: int, user: User, reason: str | None, now: datetime) -> CallbackTask:
    """Cancel one task with a recorded reason. The incident record stays (I6)."""
    task = task_for(session, task_id, user)
    if task.status not in OPEN_TASKS:
        raise Conflict(f"the task is already {task.status}", code="task_closed")
    if task.status == TaskStatus.CLAIMED and task.claimed_by_id != user.id and user.role != Role.ADMIN:
        raise AlreadyClaimed("another manager holds this task; they, or an administrator, may cancel it")
    task.status, task.outcome, task.cancel_reason, task.closed_at = "cancelled", "cancelled", reason, now
    task.claimed_by_id = task.claimed_by_id or user.id
    return task


def _line_manager(session: Session, username: object, what: str) -> User:
    username = clean_text(username, what, required=True, max_len=80)
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None or user.role != Role.LINE_MANAGER:
        raise InvalidInput(f"{what} must be the username of an active line manager")
    return user


def reassign(session: Session, task_id: int, admin: User, manager_username: str | None, now: datetime) -> CallbackTask:
    """An administrator moves a task to another line manager; it keeps its place (need_arose_at)."""
    if admin.role != Role.ADMIN:
        raise Forbidden("only an administrator may reassign tasks", code="admin_reassigns")
    task = task_for(session, task_id, admin)
    if task.status not in OPEN_TASKS:
        raise Conflict(f"the task is {task.status}", code="task_closed")
    if task.dial_call_id:
        raise Conflict("a callback is under way on this task", code="callback_in_progress")
    target = _line_manager(session, manager_username, "manager")
    task.manager_id, task.team_id = target.id, target.team_id or task.team_id
    task.status, task.claimed_by_id, task.claimed_at, task.claim_active_at = TaskStatus.OPEN, None, None, None
    return task


def set_deputy(session: Session, manager: User, deputy_username: str | None) -> User | None:
    """A manager going away hands their queue to a deputy (None takes it back)."""
    if deputy_username in (None, ""):
        manager.deputy_id = None
        return None
    deputy = _line_manager(session, deputy_username, "deputy")
    if deputy.id == manager.id:
        raise InvalidInput("a manager cannot be their own deputy")
    manager.deputy_id = deputy.id
    return deputy
