"""Whose records a member of staff may see (DOMAIN R9: least data per role; CONTRACT "else 404").

A team's calls, case notes and incidents are seen by the people who work on them: the call's own
handler (and a note's author), the team's line managers and the managers deputising for them, the
team's supervisors (a supervisor without a team watches every team), and administrators. Anyone else
is told nothing: services answer NotFound with the same message as for a record that does not
exist, so existence does not leak.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.calls.board import visible_team_ids
from call_flows.calls.pending import store_pending
from call_flows.callbacks.queue import scope
from call_flows.models import Call, CaseNote, User
from call_flows.staff.people import SHOWN_NAME
from call_flows.vocabulary import SEES_RINGING, WAITING, Role



def teams_in_view(session: Session, user: User) -> list[int] | None:
    """The teams whose records `user` sees: None means every team (administrators, a supervisor
    without a team); a handler or panel member sees no team's records (only their own)."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.LINE_MANAGER:
        return scope(session, user)[0]
    if user.role == Role.SUPERVISOR:
        return visible_team_ids(session, user)
    return []


def may_see_team(session: Session, user: User, team_id: int | None) -> bool:
    teams = teams_in_view(session, user)
    return teams is None or (team_id is not None and team_id in teams)


def may_see_call(session: Session, user: User, call: Call) -> bool:
    """A ringing call nobody has taken is everyone's on the console and the board (no team owns it
    yet); after that it is its handler's and its team's."""
    if call.handler_id is not None and call.handler_id == user.id:
        return True
    if call.handler_id is None and call.status in WAITING:
        return user.role in SEES_RINGING
    return may_see_team(session, user, call.team_id)


def call_owner(session: Session, call_sid: str) -> tuple[int | None, int | None]:
    """(team_id, handler_id) of a call, or (None, None) for an unknown CallSid."""
    query = select(Call.team_id, Call.handler_id).where(Call.call_sid == call_sid)
    row = session.execute(query).first()
    if row is None and store_pending(session, call_sid):  # rang a moment ago, written behind (issue 13)
        row = session.execute(query).first()
    return (row.team_id, row.handler_id) if row else (None, None)


def visible_notes(session: Session, case_reference: str, user: User) -> list[tuple[CaseNote, str, str]]:
    """M3 with R9: the case notes of `case_reference` that `user` may see (author, the call's handler,
    the team's managers and supervisors, administrators), oldest first, with each author's username and
    the name people see (14.3)."""
    rows = session.execute(
        select(CaseNote, User.username, SHOWN_NAME, Call.team_id, Call.handler_id)
        .join(User, User.id == CaseNote.author_id).outerjoin(Call, Call.id == CaseNote.call_id)
        .where(CaseNote.case_reference == case_reference).order_by(CaseNote.created_at, CaseNote.id)).all()
    teams = teams_in_view(session, user) if rows else []
    return [(note, author, name) for note, author, name, team_id, handler_id in rows
            if note.author_id == user.id or handler_id == user.id or teams is None
            or (team_id is not None and team_id in teams)]
