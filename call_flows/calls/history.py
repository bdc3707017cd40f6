"""Call history and search (CONTRACT `GET /api/v1/calls`, page `/calls`; DOMAIN R9 least data).

A line manager sees their teams' calls (and those of managers they deputise for), a supervisor their
team's (one without a team: every team's), an administrator every call: the same people who may read
each call on its own (call_detail.may_read). Newest first, a page at a time.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, NamedTuple

from pydantic import BaseModel, Field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from call_flows.calls.callers import audit
from call_flows.clock import day_start
from call_flows.errors import Forbidden, InvalidInput, NotFound
from call_flows.models import Call, CaseNote, Customer, CustomerPhone, Incident, RegisterEntry, Team, Termination, User
from call_flows.phone import to_e164
from call_flows.register.shown import entries_shown, markers_shown
from call_flows.staff.visibility import teams_in_view
from call_flows.validation import FreeText
from call_flows.vocabulary import OVERSEERS as HISTORY_ROLES, REGISTER_READERS as REGISTER_ROLES, Role  # R9

PAGE_SIZE = 25


SearchTerm = Annotated[str | None, FreeText(200)]  # blank: no filter; a NUL or over 200 characters: refused


class Search(BaseModel):
    """What to look for (the query of `GET /api/v1/calls` and of the /calls page), each filter optional."""

    phone: SearchTerm = Field(None, description="the caller's number in any common format (matched as E.164)")
    case_reference: SearchTerm = Field(None, description="calls with this case reference (termination, case note "
                                       "or incident)")
    name: SearchTerm = Field(None, description="a caution register name (register roles only; audited, R9)")
    since: SearchTerm = Field(None, description="ISO date (from the start of that local day) or date-time "
                              "(no zone = UTC)")
    until: SearchTerm = Field(None, description="ISO date (to the end of that local day) or date-time")
    team: SearchTerm = Field(None, description="a team's name or id")
    page: int = Field(1, ge=1, le=100_000, description="1-based page number")


def _moment(text: str, field: str, end_of_day: bool) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return day_start(day + timedelta(days=1)) if end_of_day else day_start(day)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} '{text[:40]}' is not an ISO date (2026-11-30) or date-time "
                           "(2026-11-30T09:00:00+00:00).") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _team_id(session: Session, text: str, teams: list[int] | None) -> int:
    team = session.get(Team, int(text)) if text.isdigit() and len(text) < 10 else None
    team = team or session.scalar(select(Team).where(Team.name == text[:100]))
    if team is None or (teams is not None and team.id not in teams):
        raise NotFound(f"no team '{text[:100]}' whose calls you may see")
    return team.id


def _by_name(session: Session, user: User, name: str, now: datetime) -> list[str]:
    """R9: the numbers of register entries whose person is called `name` (case-insensitive); every
    entry found is logged as viewed, and the search itself is logged."""
    if user.role not in REGISTER_ROLES:
        raise Forbidden("searching by a register name needs a role that may see the register")
    exact = re.sub(r"([\\%_])", r"\\\1", name.strip()[:200])  # a name, never a pattern: "%" finds no one
    rows = session.execute(
        select(RegisterEntry.id, Customer.id).join(Customer, Customer.id == RegisterEntry.customer_id)
        .where(Customer.name.ilike(exact, escape="\\"))).all()
    audit(session, user, "search", "register_name", None, now, via="call_history", found=len(rows))
    entries_shown(session, user, [entry_id for entry_id, _ in rows], now, via="call_history")
    customers = {customer_id for _, customer_id in rows}
    return list(session.scalars(select(CustomerPhone.phone).where(CustomerPhone.customer_id.in_(customers))))


class CallRow(NamedTuple):
    """A call in the history, with its handler's username (the API's identifier; None if nobody took it)."""

    call: Call
    handler: str | None


@dataclass(frozen=True)
class HistoryPage:
    """A page of the history: `calls` newest first (at most PAGE_SIZE), `next_page` None on the last page."""

    calls: list[CallRow]
    next_page: int | None


def history(session: Session, user: User, search: Search, now: datetime, region: str = "GB") -> HistoryPage:
    """A page of calls, newest first, only calls `user` may read.
    Raises Forbidden for a role without call history, InvalidPhone / InvalidInput for bad filters,
    NotFound for a team the user may not see. The caller commits (R9: a name search, and each register
    marker shown, write audit rows)."""
    if user.role not in HISTORY_ROLES:
        raise Forbidden("call history is for line managers, supervisors and administrators")
    teams = teams_in_view(session, user)
    query = select(Call, User.username).outerjoin(User, User.id == Call.handler_id)  # the API's identifier
    if teams is not None:  # R9: their teams; a supervisor also sees calls no team has taken yet, as on the board
        query = query.where(or_(Call.team_id.in_(teams), Call.team_id.is_(None))
                            if user.role == Role.SUPERVISOR else Call.team_id.in_(teams))
    if search.phone:
        query = query.where(Call.caller == to_e164(search.phone, region))
    if search.name:
        query = query.where(Call.caller.in_(_by_name(session, user, search.name, now)))
    if search.case_reference:
        ref = search.case_reference.strip()[:64]
        query = query.where(or_(
            Call.id.in_(select(Termination.call_id).where(Termination.case_reference == ref)),
            Call.id.in_(select(CaseNote.call_id).where(CaseNote.case_reference == ref)),
            Call.id.in_(select(Incident.call_id).where(Incident.case_reference == ref))))
    if search.since:
        query = query.where(Call.started_at >= _moment(search.since, "since", end_of_day=False))
    if search.until:
        query = query.where(Call.started_at < _moment(search.until, "until", end_of_day=True)
                            if len(search.until) == 10 else
                            Call.started_at <= _moment(search.until, "until", end_of_day=True))
    if search.team:
        query = query.where(Call.team_id == _team_id(session, search.team.strip(), teams))
    page = search.page
    rows = session.execute(query.order_by(Call.started_at.desc(), Call.id.desc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    markers_shown(session, user, [(call.caller, call.ring_marker, call.started_at) for call, _ in rows[:PAGE_SIZE]
                                  if call.ring_marker], now, via="call_history")  # R9: who saw an entry's marker
    return HistoryPage([CallRow(call, handler) for call, handler in rows[:PAGE_SIZE]],
                       page + 1 if len(rows) > PAGE_SIZE else None)
