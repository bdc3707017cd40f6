"""One call as the staff API shows it (CONTRACT `GET /api/v1/calls/{CallSid}`): who called, when it
was answered and ended, its handler, the caller's flags as they were at ring time (R1, R10, C3), the
warnings (T1) and the termination (T3-T5), each with what became of it on the caller's leg
(`platform_status`: pending, played, caller_left, failed)."""
from typing import Any
from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.calls.board import visible_team_ids
from call_flows.callbacks.queue import teams_managed
from call_flows.clock import iso_utc
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


def call_summary(call: Call, handler: str | None) -> dict[str, Any]:
    """The call without its lists (CONTRACT history shape): sid, caller (E.164 or null), caller_kind,
    status, ISO UTC times, handler's username, flags as at ring time (R1, R10, C3)."""
    return {
        "call_sid": call.call_sid, "caller": call.caller, "caller_kind": call.caller_kind, "status": call.status,
        "started_at": iso_utc(call.started_at), "answered_at": iso_utc(call.answered_at), "ended_at": iso_utc(call.ended_at),
        "handler": handler,
        "flags": {"marker": call.ring_marker, "signals": list(call.ring_signals or []),
                  "restricted": bool(call.ring_restricted)},
    }


def call_detail(session: Session, call_sid: str, user: User) -> dict[str, Any]:
    """The call as `user` may read it. Raises NotFound (never Forbidden: whether a call exists is not
    told to someone who may not read it) for an unknown call or one outside the reader's scope."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid[:64]))
    if call is None or not may_read(session, user, call):
        raise NotFound(f"no call {call_sid} you may read")
    handler = session.get(User, call.handler_id) if call.handler_id else None
    warnings = session.scalars(select(CallWarning).where(CallWarning.call_id == call.id)
                               .order_by(CallWarning.created_at, CallWarning.id))
    termination = session.scalar(select(Termination).where(Termination.call_id == call.id))
    return {
        **call_summary(call, handler.username if handler else None),
        "warnings": [{"id": w.id, "reason": w.reason, "created_at": iso_utc(w.created_at),
                      "platform_status": w.platform_status} for w in warnings],
        "termination": None if termination is None else {
            "id": termination.id, "immediate_reason": termination.immediate_reason,
            "platform_status": termination.platform_status, "case_note_id": termination.case_note_id,
            "incident_id": termination.incident_id, "callback_task_id": termination.callback_task_id},
    }
