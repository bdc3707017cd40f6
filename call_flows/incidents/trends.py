"""Trends for area managers and H&S representatives (I8): incidents, warnings and terminations per
week by team, site and reason; repeat callers (R10); time to complete callbacks (T5) and incident
records (I5) against their deadlines. PostgreSQL counts per local week, team, site and reason in SQL
(by the 0018 indexes on each record's date), and only the repeat callers that can make the list come
back: 52 weeks over a million calls in about 130-200 ms here (bench/data_growth.py, issue 13 item 6).
No rollup table: a closed week's counts still change (an incident found serious later, a termination
linked to its incident after the write-up, the R9 purge), and the answer must be today's exactly.
SQLite hands back one row per record and Python counts it the same way."""
from collections.abc import Callable
from typing import Any, TypeVar
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, Select, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from call_flows.clock import as_utc, day_start, local_date, org_zone, week_monday
from call_flows.models import Call, CallbackTask, CallWarning, Incident, Team, Termination
from call_flows.phone import mask
from call_flows.vocabulary import ImmediateReason
from call_flows.settings import OrgSettings

KINDS = ("incidents", "warnings", "terminations")
MAX_WEEKS = 52


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime | date  # the moment, or (grouped on PostgreSQL) its local Monday
    team: str
    site: str
    reason: str
    count: int = 1  # records of this kind, week, team, site and reason (grouped in SQL)


Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
week_of = week_monday  # I8: weeks run from Monday 00:00 on the organisation's clock (ORG_TIMEZONE)


def period_start(now: datetime, weeks: int) -> datetime:
    """The local Monday midnight, `weeks` weeks back counting this one, in UTC."""
    weeks = max(1, min(MAX_WEEKS, weeks))
    return day_start(week_of(now) - timedelta(weeks=weeks - 1))


def _team_clause(query: Query, team_column: Any, team_id: int | None, site: str | None) -> Query:
    if team_id is not None:
        query = query.where(team_column == team_id)
    if site:
        query = query.where(Team.site == site)
    return query


def _week(session: Session, column: Any) -> Any:
    """I8: the local Monday of `column` on PostgreSQL (date_trunc in the organisation's zone); on
    SQLite the moment itself, turned into its week in Python."""
    if session.get_bind().dialect.name != "postgresql":
        return column
    return cast(func.date_trunc("week", func.timezone(org_zone().key, column)), Date)


def _grouped(session: Session, query: Select[*tuple[Any, ...]], kind: str, reason: Callable[[list[Any]], str]) -> list[Event]:
    """Rows (week, team, site, reason, count) of `query` grouped in SQL, as Events with a count."""
    columns = list(query.selected_columns)
    rows = session.execute(query.group_by(*columns).with_only_columns(*columns, func.count()))
    return [Event(kind, week, team or "No team", site or "No site", reason(r), n)
            for week, team, site, *r, n in rows]


def events(session: Session, since: datetime, team_id: int | None = None, site: str | None = None) -> list[Event]:
    """Every warning, termination and incident record opened since `since`, with its team, site and
    reason, counted per week (`at` is the local Monday on PostgreSQL, the moment on SQLite)."""
    warned = _team_clause(select(_week(session, CallWarning.created_at), Team.name, Team.site, CallWarning.reason)
                          .join(Call, Call.id == CallWarning.call_id).outerjoin(Team, Team.id == Call.team_id)
                          .where(CallWarning.created_at >= since), Call.team_id, team_id, site)
    ended = _team_clause(select(_week(session, Termination.created_at), Team.name, Team.site, Termination.reason,
                                Termination.immediate_reason).join(Call, Call.id == Termination.call_id)
                         .outerjoin(Team, Team.id == Call.team_id).where(Termination.created_at >= since),
                         Call.team_id, team_id, site)
    opened = _team_clause(select(_week(session, Incident.opened_at), Team.name, Team.site, Incident.serious,
                                 Termination.reason)
                          .outerjoin(Termination, Termination.incident_id == Incident.id)
                          .outerjoin(Team, Team.id == Incident.team_id).where(Incident.opened_at >= since),
                          Incident.team_id, team_id, site)
    return (_grouped(session, warned, "warnings", lambda r: r[0])
            + _grouped(session, ended, "terminations", lambda r: r[1] or r[0])
            + _grouped(session, opened, "incidents", lambda r: ImmediateReason.THREAT_OF_VIOLENCE if r[0] else (r[1] or "warning only")))


def _week_of(at: datetime | date) -> date:
    return at if isinstance(at, date) and not isinstance(at, datetime) else week_of(at)


def weekly(found: list[Event], now: datetime, weeks: int) -> list[dict[str, Any]]:
    """One row per week of the period, oldest first, zero weeks included (a quiet week is news too)."""
    first = week_of(period_start(now, weeks))
    counts: dict[date, Counter[str]] = {first + timedelta(weeks=i): Counter() for i in range(max(1, min(MAX_WEEKS, weeks)))}
    for e in found:
        week = _week_of(e.at)
        if week in counts:
            counts[week][e.kind] += e.count
    return [{"week": w.isoformat(), **{k: c[k] for k in KINDS}} for w, c in counts.items()]


def by(found: list[Event], field: str) -> list[dict[str, Any]]:
    """Totals per team, site or reason, largest first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for e in found:
        counts[getattr(e, field)][e.kind] += e.count
    rows = [{field: key, **{k: c[k] for k in KINDS}} for key, c in counts.items()]
    return sorted(rows, key=lambda r: (-sum(r[k] for k in KINDS), r[field]))


def repeat_callers(session: Session, since: datetime, team_id: int | None = None, site: str | None = None,
                   minimum: int = 2, limit: int = 20) -> list[dict[str, Any]]:
    """R10: callers warned or terminated at least `minimum` times in the period (numbers masked),
    counted and filtered in SQL (only the repeat callers come back)."""
    parts = []
    for model in (CallWarning, Termination):
        is_warning = literal(1 if model is CallWarning else 0)
        part = select(model.caller.label("caller"), model.created_at.label("at"), is_warning.label("warning")).where(
            model.created_at >= since, model.caller.is_not(None))
        if team_id is not None or site:  # the call's team only when narrowing by it
            part = _team_clause(part.join(Call, Call.id == model.call_id).outerjoin(Team, Team.id == Call.team_id),
                                Call.team_id, team_id, site)
        parts.append(part)
    both = union_all(*parts).subquery()
    counted = (select(both.c.caller, func.sum(both.c.warning).label("warnings"), func.count().label("total"),
                      func.max(both.c.at).label("last"), func.rank().over(order_by=func.count().desc()).label("place"))
               .group_by(both.c.caller).having(func.count() >= minimum)).subquery()
    # only the callers that can be among the first `limit` (ties at the last place included): the
    # order below (masked number among equals) then picks exactly the same `limit` as before
    query = select(counted.c.caller, counted.c.warnings, counted.c.total, counted.c.last).where(counted.c.place <= limit)
    rows = [{"caller": mask(caller), "warnings": int(warnings), "terminations": total - int(warnings),
             "last_at": as_utc(_moment(last)).isoformat()} for caller, warnings, total, last in session.execute(query)]
    return sorted(rows, key=lambda r: (-(r["warnings"] + r["terminations"]), r["caller"]))[:limit]


def _moment(value: str | datetime) -> datetime:
    """max() over a union comes back as text on SQLite."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _deadline_row(name: str, items: list[tuple[datetime, datetime, datetime | None]], now: datetime) -> dict[str, Any]:
    """items: (started, deadline, completed or None) -> on time, late, open in time, open overdue."""
    row: dict[str, Any] = {"record": name, "on_time": 0, "late": 0, "open_in_time": 0, "open_overdue": 0, "median_hours": None}
    hours: list[float] = []
    for started, deadline, done in items:
        started, deadline, done = as_utc(started), as_utc(deadline), as_utc(done)
        if done is not None:
            row["on_time" if done <= deadline else "late"] += 1
            hours.append((done - started).total_seconds() / 3600)
        else:
            row["open_in_time" if now <= deadline else "open_overdue"] += 1
    if hours:
        hours.sort()
        row["median_hours"] = round(hours[len(hours) // 2], 1)
    return row


def deadlines(session: Session, now: datetime, since: datetime, settings: OrgSettings, team_id: int | None = None,
              site: str | None = None) -> list[dict[str, Any]]:
    """T5: callbacks against `due_at`; I5: incident records against `incident_escalation_hours`."""
    tasks = _team_clause(select(CallbackTask.need_arose_at, CallbackTask.due_at, CallbackTask.closed_at)
                         .outerjoin(Team, Team.id == CallbackTask.team_id)
                         .where(CallbackTask.need_arose_at >= since), CallbackTask.team_id, team_id, site)
    window = timedelta(hours=settings.incident_escalation_hours)
    records = _team_clause(select(Incident.opened_at, Incident.completed_at).outerjoin(Team, Team.id == Incident.team_id)
                           .where(Incident.opened_at >= since), Incident.team_id, team_id, site)
    return [
        _deadline_row("callbacks", [r.tuple() for r in session.execute(tasks)], now),
        _deadline_row("incident records", [(r[0], as_utc(r[0]) + window, r[1]) for r in session.execute(records)], now),
    ]


def report(session: Session, now: datetime, settings: OrgSettings, weeks: int = 12, team_id: int | None = None,
           site: str | None = None) -> dict[str, Any]:
    """Everything the trends page shows, each part also a CSV download."""
    since = period_start(now, weeks)
    found = events(session, since, team_id, site)
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    return {
        "since": local_date(since).isoformat(), "weeks": max(1, min(MAX_WEEKS, weeks)),
        "teams": [{"id": t.id, "name": t.name, "site": t.site} for t in teams],
        "sites": sorted({t.site for t in teams if t.site}),
        "weekly": weekly(found, now, weeks), "by_team": by(found, "team"), "by_site": by(found, "site"),
        "by_reason": by(found, "reason"), "repeat_callers": repeat_callers(session, since, team_id, site),
        "deadlines": deadlines(session, now, since, settings, team_id, site),
    }


CSV_COLUMNS = {
    "weekly": ("week", *KINDS), "by_team": ("team", *KINDS), "by_site": ("site", *KINDS),
    "by_reason": ("reason", *KINDS), "repeat_callers": ("caller", "warnings", "terminations", "last_at"),
    "deadlines": ("record", "on_time", "late", "open_in_time", "open_overdue", "median_hours"),
}


def csv_cell(value: object) -> str:
    """Spreadsheet-safe: a cell that a spreadsheet would run as a formula is prefixed with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(report_data: dict[str, Any], name: str) -> list[list[str]]:
    """The header and rows of one part of the report, ready for csv.writer."""
    columns = CSV_COLUMNS[name]
    return [list(columns)] + [[csv_cell(row.get(c)) for c in columns] for row in report_data[name]]
