"""Recovery time after a termination (issue 6; HMPO: speak with the staff member, remind them of
support). A terminated call offers its handler a configurable pause (`recovery_minutes`) before the
next call, and alerts their team lead (line manager) so they can check on them. The handler may end
the pause early; the supervisor board shows who is recovering."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.jobs import outbox
from call_flows import settings as org_settings
from call_flows.clock import as_utc
from call_flows.events import TeamLeadAlerted, record
from call_flows.jobs.mail import queue_email
from call_flows.models import Call, RecoveryPeriod, Team, Termination, User
from call_flows.jobs.outbox import task
from call_flows.vocabulary import Recipient

if TYPE_CHECKING:  # the hand-over imports the tasks' modules through the outbox
    from call_flows.jobs.handover import JobContext


@dataclass(frozen=True)
class Recovering:
    user_id: int
    username: str
    team_id: int | None
    team: str | None
    site: str | None
    started_at: datetime
    ends_at: datetime
    name: str = ""  # the name people read (14.3)


def offer(session: Session, termination: Termination, now: datetime, minutes: int) -> RecoveryPeriod | None:
    """Start the handler's recovery period for this termination (once) and queue the team lead's alert.

    Nothing is offered when the call had no handler (a supervisor ended a call nobody took)."""
    existing = session.scalar(select(RecoveryPeriod).where(RecoveryPeriod.termination_id == termination.id))
    if existing is not None:
        return existing
    call = session.get(Call, termination.call_id)
    if call is None or call.handler_id is None or minutes <= 0:
        return None
    period = RecoveryPeriod(user_id=call.handler_id, termination_id=termination.id, started_at=now,
                            ends_at=now + timedelta(minutes=minutes))
    session.add(period)
    session.flush()
    outbox.record(session, f"recovery-alert-{period.id}", alert_team_lead, {"recovery_id": period.id}, now=now)
    handler = session.get_one(User, call.handler_id)
    lead = session.get(User, handler.manager_id) if handler.manager_id else None
    if lead is not None:  # the team lead checks on the handler (HMPO)
        address = org_settings.load(session).staff_email_format.format(username=lead.username)
        queue_email(session, f"recovery-{period.id}-to-{address}", "team_lead_alert", Recipient.LINE_MANAGER, address,
                    "A call was ended for behaviour: please check on your colleague",
                    f"{handler.shown_name} has just ended a call because of the caller's behaviour and is taking "
                    "recovery time. Please speak with them and remind them of the support available "
                    "(Employee Assistance Programme, union, staff contact officers).\n"
                    f"Recovery time ends at {period.ends_at:%H:%M} UTC.", now,
                    link=f"/calls/{call.call_sid}")
    return period


def current(session: Session, user_id: int, now: datetime) -> RecoveryPeriod | None:
    """The handler's recovery period in force now, if any."""
    period = session.scalar(select(RecoveryPeriod).where(RecoveryPeriod.user_id == user_id,
                                                         RecoveryPeriod.ended_early_at.is_(None))
                            .order_by(RecoveryPeriod.ends_at.desc()).limit(1))
    if period is None or as_utc(period.ends_at) <= now:
        return None
    return period


def end_early(session: Session, user_id: int, now: datetime) -> RecoveryPeriod | None:
    """The handler says they are ready for the next call. The caller commits."""
    period = current(session, user_id, now)
    if period is not None:
        period.ended_early_at = now
    return period


def recovering(session: Session, now: datetime, team_ids: list[int] | None = None) -> list[Recovering]:
    """Handlers recovering now, soonest back first; `team_ids=None` means every team."""
    query = (select(RecoveryPeriod, User, Team).join(User, User.id == RecoveryPeriod.user_id)
             .outerjoin(Team, Team.id == User.team_id)
             .where(RecoveryPeriod.ended_early_at.is_(None), RecoveryPeriod.ends_at > now)
             .order_by(RecoveryPeriod.ends_at))
    if team_ids is not None:
        query = query.where(User.team_id.in_(team_ids))
    seen: dict[int, Recovering] = {}
    for period, user, team in session.execute(query).all():
        seen.setdefault(user.id, Recovering(user.id, user.username, user.team_id, team.name if team else None,
                                            team.site if team else None, as_utc(period.started_at),
                                            as_utc(period.ends_at), user.shown_name))
    return list(seen.values())


@task
def alert_team_lead(session: Session, ctx: "JobContext", now: datetime, recovery_id: int) -> None:
    """Tell the handler's team lead that a call of theirs was terminated, so they check on them.
    Recorded as TeamLeadAlerted, whose live event (`team_lead_alert`) the board and desktops show once
    the job commits; the email is queued with the termination itself (see `offer`)."""
    period = session.get(RecoveryPeriod, recovery_id)
    if period is None or period.lead_alerted_at is not None:
        return
    handler = session.get_one(User, period.user_id)
    lead = session.get(User, handler.manager_id) if handler.manager_id else None
    record(session, TeamLeadAlerted(handler.id, handler.username, handler.team_id, lead.id if lead else None,
                                    lead.username if lead else None, as_utc(period.ends_at).isoformat()))
    period.lead_alerted_at = now
