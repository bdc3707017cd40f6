"""One call as the staff API shows it (CONTRACT `GET /api/v1/calls/{CallSid}`): who called, when it
was answered and ended, its handler, the caller's flags as they were at ring time (R1, R10, C3), the
warnings (T1) and the termination (T3-T5), each with what became of it on the caller's leg
(`platform_status`: pending, played, caller_left, failed)."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.calls.board import visible_team_ids
from call_flows.calls.pending import find_call
from call_flows.callbacks.queue import teams_managed
from call_flows.errors import NotFound
from call_flows.models import Call, CallWarning, Termination, User
from call_flows.vocabulary import Role


def may_read(session: Session, user: User, call: Call) -> bool:
    """The call's handler, its team's line managers (their own team and their reports' teams) and
    supervisors (a supervisor without a team watches every team, as on the board; a call no team
    has taken yet is every supervisor's, as on the board), and administrators."""
    if user.role == Role.ADMIN or (call.handler_id is not None and call.handler_id == user.id):
        return True
    if user.role == Role.LINE_MANAGER:
        return call.team_id is not None and call.team_id in teams_managed(session, user)
    if user.role == Role.SUPERVISOR:
        teams = visible_team_ids(session, user)
        return teams is None or call.team_id is None or call.team_id in teams
    return False


@dataclass(frozen=True)
class CallDetail:
    """One call as its reader sees it: the call, its handler (or None), its warnings (oldest first), its
    termination (or None)."""

    call: Call
    handler: User | None
    warnings: list[CallWarning]
    termination: Termination | None


def call_detail(session: Session, call_sid: str, user: User) -> CallDetail:
    """The call as `user` may read it. Raises NotFound (never Forbidden: whether a call exists is not
    told to someone who may not read it) for an unknown call or one outside the reader's scope."""
    call = find_call(session, call_sid[:64])
    if call is None or not may_read(session, user, call):
        raise NotFound(f"no call {call_sid} you may read")
    handler = session.get(User, call.handler_id) if call.handler_id else None
    warnings = session.scalars(select(CallWarning).where(CallWarning.call_id == call.id)
                               .order_by(CallWarning.created_at, CallWarning.id))
    termination = session.scalar(select(Termination).where(Termination.call_id == call.id))
    return CallDetail(call, handler, list(warnings), termination)
