"""Trends for area managers and H&S representatives (I8): incidents, warnings and terminations per
week by team, site and reason; repeat callers (R10); time to complete callbacks (T5) and incident
records (I5) against their deadlines. Counted in Python over one period's rows, so the same code
runs on SQLite and PostgreSQL; a period is at most a year of a contact centre's incidents."""
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import as_utc, day_start, local_date, week_monday
from .models import Call, CallbackTask, CallWarning, Incident, Team, Termination
from .phone import mask

KINDS = ("incidents", "warnings", "terminations")
MAX_WEEKS = 52


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    team: str
    site: str
    reason: str


week_of = week_monday  # I8: weeks run from Monday 00:00 on the organisation's clock (ORG_TIMEZONE)


def period_start(now: datetime, weeks: int) -> datetime:
    """The local Monday midnight, `weeks` weeks back counting this one, in UTC."""
    weeks = max(1, min(MAX_WEEKS, weeks))
    return day_start(week_of(now) - timedelta(weeks=weeks - 1))


def _team_clause(query, team_column, team_id: int | None, site: str | None):
    if team_id is not None:
        query = query.where(team_column == team_id)
    if site:
        query = query.where(Team.site == site)
    return query


def events(session: Session, since: datetime, team_id: int | None = None, site: str | None = None) -> list[Event]:
    """Every warning, termination and incident record opened since `since`, with its team, site and reason."""
    found: list[Event] = []
    warned = _team_clause(select(CallWarning.created_at, CallWarning.reason, Team.name, Team.site)
                          .join(Call, Call.id == CallWarning.call_id).outerjoin(Team, Team.id == Call.team_id)
                          .where(CallWarning.created_at >= since), Call.team_id, team_id, site)
    found += [Event("warnings", r[0], r[2] or "No team", r[3] or "No site", r[1]) for r in session.execute(warned)]
    ended = _team_clause(select(Termination.created_at, Termination.reason, Termination.immediate_reason, Team.name,
                                Team.site).join(Call, Call.id == Termination.call_id)
                         .outerjoin(Team, Team.id == Call.team_id).where(Termination.created_at >= since),
                         Call.team_id, team_id, site)
    found += [Event("terminations", r[0], r[3] or "No team", r[4] or "No site", r[2] or r[1]) for r in session.execute(ended)]
    opened = _team_clause(select(Incident.opened_at, Incident.serious, Termination.reason, Team.name, Team.site)
                          .outerjoin(Termination, Termination.incident_id == Incident.id)
                          .outerjoin(Team, Team.id == Incident.team_id).where(Incident.opened_at >= since),
                          Incident.team_id, team_id, site)
    found += [Event("incidents", r[0], r[3] or "No team", r[4] or "No site",
                    "threat_of_violence" if r[1] else (r[2] or "warning only")) for r in session.execute(opened)]
    return found


def weekly(found: list[Event], now: datetime, weeks: int) -> list[dict]:
    """One row per week of the period, oldest first, zero weeks included (a quiet week is news too)."""
    first = week_of(period_start(now, weeks))
    counts = {first + timedelta(weeks=i): Counter() for i in range(max(1, min(MAX_WEEKS, weeks)))}
    for e in found:
        week = week_of(e.at)
        if week in counts:
            counts[week][e.kind] += 1
    return [{"week": w.isoformat(), **{k: c[k] for k in KINDS}} for w, c in counts.items()]


def by(found: list[Event], field: str) -> list[dict]:
    """Totals per team, site or reason, largest first."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for e in found:
        counts[getattr(e, field)][e.kind] += 1
    rows = [{field: key, **{k: c[k] for k in KINDS}} for key, c in counts.items()]
    return sorted(rows, key=lambda r: (-sum(r[k] for k in KINDS), r[field]))


def repeat_callers(session: Session, since: datetime, team_id: int | None = None, site: str | None = None,
                   minimum: int = 2, limit: int = 20) -> list[dict]:
    """R10: callers warned or terminated at least `minimum` times in the period (numbers masked)."""
    tally: dict[str, Counter] = defaultdict(Counter)
    last: dict[str, datetime] = {}
    for kind, model in (("warnings", CallWarning), ("terminations", Termination)):
        query = _team_clause(select(model.caller, model.created_at).join(Call, Call.id == model.call_id)
                             .outerjoin(Team, Team.id == Call.team_id)
                             .where(model.created_at >= since, model.caller.is_not(None)), Call.team_id, team_id, site)
        for caller, at in session.execute(query):
            tally[caller][kind] += 1
            last[caller] = max(last.get(caller, as_utc(at)), as_utc(at))
    rows = [{"caller": mask(caller), "warnings": c["warnings"], "terminations": c["terminations"],
             "last_at": last[caller].isoformat()}
            for caller, c in tally.items() if c["warnings"] + c["terminations"] >= minimum]
    return sorted(rows, key=lambda r: (-(r["warnings"] + r["terminations"]), r["caller"]))[:limit]


def _deadline_row(name: str, items: list[tuple[datetime, datetime, datetime | None]], now: datetime) -> dict:
    """items: (started, deadline, completed or None) -> on time, late, open in time, open overdue."""
    row = {"record": name, "on_time": 0, "late": 0, "open_in_time": 0, "open_overdue": 0, "median_hours": None}
    hours = []
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


def deadlines(session: Session, now: datetime, since: datetime, settings: dict, team_id: int | None = None,
              site: str | None = None) -> list[dict]:
    """T5: callbacks against `due_at`; I5: incident records against `incident_escalation_hours`."""
    tasks = _team_clause(select(CallbackTask.need_arose_at, CallbackTask.due_at, CallbackTask.closed_at)
                         .outerjoin(Team, Team.id == CallbackTask.team_id)
                         .where(CallbackTask.need_arose_at >= since), CallbackTask.team_id, team_id, site)
    window = timedelta(hours=settings["incident_escalation_hours"])
    records = _team_clause(select(Incident.opened_at, Incident.completed_at).outerjoin(Team, Team.id == Incident.team_id)
                           .where(Incident.opened_at >= since), Incident.team_id, team_id, site)
    return [
        _deadline_row("callbacks", [tuple(r) for r in session.execute(tasks)], now),
        _deadline_row("incident records", [(r[0], as_utc(r[0]) + window, r[1]) for r in session.execute(records)], now),
    ]


def report(session: Session, now: datetime, settings: dict, weeks: int = 12, team_id: int | None = None,
           site: str | None = None) -> dict:
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


def csv_cell(value) -> str:
    """Spreadsheet-safe: a cell that a spreadsheet would run as a formula is prefixed with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(report_data: dict, name: str) -> list[list[str]]:
    """The header and rows of one part of the report, ready for csv.writer."""
    columns = CSV_COLUMNS[name]
    return [list(columns)] + [[csv_cell(row.get(c)) for c in columns] for row in report_data[name]]
