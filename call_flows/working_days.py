"""Working days in England (R5: letter within 2 working days; R8: appeal answered within 20).

Weekends and England's bank holidays (the `holidays` package, subdivision ENG) are not working days.
Deadlines fall at the end of the working day, 17:00 local time (ORG_TIMEZONE), so a letter due "in 2 working days"
from a Friday decision is due on Tuesday evening.
"""
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
import holidays

from call_flows.clock import local_date, org_zone

END_OF_DAY = time(17, 0)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.UK(subdiv="ENG", years=year)  # type: ignore[no-untyped-call]


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (17:00 local) of the `days`-th working day after `start`'s local date, in UTC."""
    day = local_date(start)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return datetime.combine(day, END_OF_DAY, tzinfo=org_zone()).astimezone(timezone.utc)
