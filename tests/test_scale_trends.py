"""Issue 13 item 6: trends are counted in SQL (per local week, team, site and reason on PostgreSQL);
the counts are those of counting every record one by one in Python on the organisation's clock (I8, R10)."""
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.incidents import trends
from call_flows.models import Call, CallWarning, Incident, Team, Termination
from tests.page_helpers import History

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)  # 12 weeks back crosses the 25 October clock change


def _history(app, team) -> None:
    rng = random.Random(13)
    with app.app_context():
        s = db_session()
        teams = [s.query(Team).filter_by(name="Passports North").one(), Team(name="Benefits South", site="Leeds")]
        s.add(teams[1])
        s.flush()
        h = History(s, team["handler"]["id"])
        for i in range(120):
            # Sunday 22:50-23:40 UTC around each week's turn, and anywhere in the 14 weeks before NOW
            sunday = NOW - timedelta(days=(NOW.weekday() + 1) % 7 + 7 * rng.randrange(13))
            at = (sunday.replace(hour=22, minute=50) + timedelta(minutes=rng.randrange(50)) if i % 2
                  else NOW - timedelta(minutes=rng.randrange(14 * 7 * 24 * 60)))
            h.call(rng.choice(teams), f"+4477009000{rng.randrange(12):02d}", at,
                   warn=rng.choice(["abuse", "threats", None]), end=rng.choice(["abuse", None, None]),
                   serious=rng.random() < 0.1)
        s.commit()


def _one_by_one(session, since) -> tuple[Counter, Counter, Counter]:
    """Every record read and counted in Python: (week, kind), (team, kind), (caller, kind)."""
    weeks, by_team, callers = Counter(), Counter(), Counter()
    rows = [("warnings", w.created_at, w.call_id, w.caller) for w in session.scalars(select(CallWarning))]
    rows += [("terminations", t.created_at, t.call_id, t.caller) for t in session.scalars(select(Termination))]
    rows += [("incidents", i.opened_at, i.call_id, None) for i in session.scalars(select(Incident))]
    for kind, at, call_id, caller in rows:
        if at < since:
            continue
        weeks[(trends.week_of(at).isoformat(), kind)] += 1
        by_team[(session.get(Team, session.get(Call, call_id).team_id).name, kind)] += 1
        if caller:
            callers[caller] += 1
    return weeks, by_team, callers


def test_i8_r10_counts_grouped_in_sql_are_those_of_every_record_counted_on_the_local_clock(app, team):
    _history(app, team)
    with app.app_context():
        s = db_session()
        data = trends.report(s, NOW, org_settings.OrgSettings(), weeks=12)
        weeks, by_team, callers = _one_by_one(s, trends.period_start(NOW, 12))
    assert {(r["week"], k): r[k] for r in data["weekly"] for k in trends.KINDS if r[k]} == dict(weeks)
    assert {(r["team"], k): r[k] for r in data["by_team"] for k in trends.KINDS if r[k]} == dict(by_team)
    repeat = sorted(n for n in callers.values() if n >= 2)[::-1][:20]
    assert [r["warnings"] + r["terminations"] for r in data["repeat_callers"]] == repeat
    assert sum(weeks.values()) > 100  # the history really falls in the period


def test_r10_the_first_repeat_callers_are_those_of_the_whole_list_cut_whatever_the_ties(app, team):
    """Issue 13 item 6: only the callers that can be among the first `limit` come back from SQL (ties
    at the last place included), and the list is the whole list's first `limit`, ties broken alike."""
    _history(app, team)
    with app.app_context():
        s = db_session()
        since = trends.period_start(NOW, 12)
        everyone = trends.repeat_callers(s, since, limit=1000)
        cut = {limit: trends.repeat_callers(s, since, limit=limit) for limit in range(1, len(everyone) + 1)}
    totals = [r["warnings"] + r["terminations"] for r in everyone]
    assert len(everyone) >= 5 and len(set(totals)) < len(totals)  # ties to break
    assert all(cut[limit] == everyone[:limit] for limit in cut)
