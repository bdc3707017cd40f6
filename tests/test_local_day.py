"""Every "today", day and week boundary is the organisation's local one (ORG_TIMEZONE, default
Europe/London), across both clock changes (issue 9 item 11; C2, R10, I8, CONTRACT configuration).

Time is frozen per test with time-machine; 2026's clock changes are Sunday 29 March (01:00 UTC, the
day is 23 hours long) and Sunday 25 October (01:00 UTC, the day is 25 hours long)."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from app.config import from_env
from app.db import db_session, ring_connection
from app.simulator import new_call_sid, signed_post
from call_flows import clock
from call_flows.calls import ring
from call_flows.incidents import trends
from call_flows import settings as org_settings
from call_flows.phone import classify_caller

CALLER = "+447700900123"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def ring_at(app, client, when: datetime, from_: str = CALLER) -> str:
    """A signed inbound webhook delivered at `when`."""
    sid = new_call_sid()
    with time_machine.travel(when, tick=False):
        response = signed_post(app, client, "/twilio/voice/inbound",
                               {"CallSid": sid, "From": from_, "To": "+441632960000", "CallStatus": "ringing"})
    assert response.status_code == 200
    return sid


def ring_flags_at(app, when: datetime, from_: str = CALLER) -> ring.RingFlags:
    """Ring time's own statement (the PostgreSQL CTE on PostgreSQL) for one more call at `when`."""
    with time_machine.travel(when, tick=False), app.app_context(), ring_connection() as conn:
        return ring.record_ring(conn, new_call_sid(), classify_caller(from_, "GB"), "+441632960000", clock.utcnow(),
                                org_settings.load(conn, fresh=True))


@pytest.mark.parametrize("day,starts_utc,ends_utc", [
    ("2026-01-15", utc(2026, 1, 15, 0), utc(2026, 1, 16, 0)),  # winter: GMT = UTC
    ("2026-07-01", utc(2026, 6, 30, 23), utc(2026, 7, 1, 23)),  # summer: the day starts at 23:00 UTC
    ("2026-03-29", utc(2026, 3, 29, 0), utc(2026, 3, 29, 23)),  # spring forward: 23 hours
    ("2026-10-25", utc(2026, 10, 24, 23), utc(2026, 10, 26, 0)),  # fall back: 25 hours
])
def test_c2_a_day_runs_from_local_midnight_to_local_midnight_across_clock_changes(day, starts_utc, ends_utc):
    start = clock.day_start(datetime.fromisoformat(day).date())
    assert start == starts_utc
    assert clock.today_start(ends_utc - timedelta(microseconds=1)) == starts_utc
    assert clock.today_start(ends_utc) == ends_utc


def test_c2_calls_late_yesterday_evening_do_not_count_today_in_summer(app, client):
    # 23:00-23:50 London on 30 June are 22:00-22:50 UTC; 00:30 London on 1 July is 23:30 UTC on 30 June.
    for minute in range(0, 60, 10):
        ring_at(app, client, utc(2026, 6, 30, 22, minute))
    flags = ring_flags_at(app, utc(2026, 6, 30, 23, 30))
    assert flags.calls_today == 0 and "many_calls_today" not in flags.signals


def test_c2_calls_after_local_midnight_count_today_in_summer(app, client):
    for minute in range(0, 60, 10):  # 00:00-00:50 London on 1 July
        ring_at(app, client, utc(2026, 6, 30, 23, minute))
    flags = ring_flags_at(app, utc(2026, 7, 1, 0, 30))  # 01:30 London: the same local day
    assert flags.calls_today == 6 and "many_calls_today" in flags.signals


@pytest.mark.parametrize("calls,then,expected", [
    # spring forward: 00:30 GMT and 23:30 BST on 29 March are one local day (22:30 UTC), 00:30 BST on the 30th is not
    ([utc(2026, 3, 29, 0, 30 + i) for i in range(6)], utc(2026, 3, 29, 22, 30), 6),
    ([utc(2026, 3, 29, 0, 30 + i) for i in range(6)], utc(2026, 3, 29, 23, 30), 0),
    # fall back: 00:30 BST (23:30 UTC on the 24th) and 23:30 GMT on 25 October are one local day
    ([utc(2026, 10, 24, 23, 30 + i) for i in range(6)], utc(2026, 10, 25, 23, 30), 6),
    ([utc(2026, 10, 24, 22, 30 + i) for i in range(6)], utc(2026, 10, 24, 23, 30), 0),
])
def test_c2_calls_today_across_both_clock_changes(app, client, calls, then, expected):
    for when in calls:
        ring_at(app, client, when)
    flags = ring_flags_at(app, then)
    assert flags.calls_today == expected
    assert ("many_calls_today" in flags.signals) == (expected >= 5)


def test_c2_the_boards_today_is_the_local_day(app, client, staff):
    supervisor = staff.add("supervisor", "supervisor")
    for minute in range(0, 60, 10):
        ring_at(app, client, utc(2026, 6, 30, 22, minute))  # 23:xx London on 30 June
    ring_at(app, client, utc(2026, 6, 30, 23, 30))  # 00:30 London on 1 July
    with time_machine.travel(utc(2026, 6, 30, 23, 31), tick=False):
        cards = client.get("/board/state", headers=supervisor["headers"]).get_json()["ringing"]
    latest = max(cards, key=lambda c: c["started_at"])
    assert latest["signals"] == [] and not latest["flagged"]


def test_r10_window_is_whole_local_days(app, client):
    now = utc(2026, 7, 1, 12)
    with app.app_context():
        settings = org_settings.load(db_session(), fresh=True).model_copy(update={"repeat_window_days": 90})
    bounds = ring.day_bounds(now, settings)
    # 90 local days before 1 July is 2 April; its midnight is 23:00 UTC on 1 April (BST).
    assert bounds["since"] == utc(2026, 4, 1, 23) and bounds["day_start"] == utc(2026, 6, 30, 23)
    # across the spring change: a window starting in winter still starts at local midnight (GMT)
    assert ring.day_bounds(utc(2026, 4, 2, 12), settings.model_copy(update={"repeat_window_days": 10}))["since"] == utc(2026, 3, 23, 0)


def _week(at: datetime, now: datetime) -> list[dict]:
    event = trends.Event("warnings", at, "Passports North", "Durham", "abuse")
    return [w for w in trends.weekly([event], now, 2) if w["warnings"]]


@pytest.mark.parametrize("at,week", [
    (utc(2026, 6, 28, 23, 30), "2026-06-29"),  # Sunday 23:30 UTC is Monday 00:30 London: the new week
    (utc(2026, 6, 28, 22, 30), "2026-06-22"),  # Sunday 23:30 London: the old week
    (utc(2026, 3, 29, 23, 30), "2026-03-30"),  # the spring change's Sunday night, BST
    (utc(2026, 10, 25, 23, 30), "2026-10-19"),  # the autumn change's Sunday night, GMT again
])
def test_i8_trend_weeks_start_monday_local_midnight(at, week):
    now = datetime.fromisoformat(week).replace(tzinfo=timezone.utc) + timedelta(days=8)
    assert [w["week"] for w in _week(at, now)] == [week]
    assert trends.period_start(now, 2) == clock.day_start(datetime.fromisoformat(week).date())


def test_c2_org_timezone_sets_the_day_for_another_organisation(database_url):
    from tests.conftest import make_app

    try:
        app = make_app(database_url, ORG_TIMEZONE="America/New_York")
        assert app.config["ORG_TIMEZONE"] == "America/New_York"
        assert clock.today_start(utc(2026, 7, 1, 3)) == utc(2026, 6, 30, 4)  # EDT: midnight is 04:00 UTC
        assert clock.today_start(utc(2026, 1, 15, 3)) == utc(2026, 1, 14, 5)  # EST: 05:00 UTC
        app.extensions["engine"].dispose()
    finally:
        clock.set_org_timezone(None)


def test_an_unknown_org_timezone_fails_at_start_up():
    try:
        with pytest.raises(ValueError, match="ORG_TIMEZONE 'Mars/Olympus' is not an IANA time zone"):
            from_env({"ORG_TIMEZONE": "Mars/Olympus", "SECRET_KEY": "x"})
    finally:
        clock.set_org_timezone(None)


def test_r4_exported_register_dates_are_the_local_calendar_date():
    from call_flows.register.export import _day

    assert _day(utc(2026, 6, 30, 23, 30)) == "2026-07-01"  # 00:30 London on 1 July
    assert _day(utc(2026, 10, 25, 23, 30)) == "2026-10-25"  # 23:30 GMT, after the clocks went back
