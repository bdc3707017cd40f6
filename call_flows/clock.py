"""One place that reads the clock and knows the organisation's time zone, so tests can pass `now`
in or move time on, and every "today", day and week boundary is the organisation's local one
(CONTRACT `ORG_TIMEZONE`, default Europe/London; C2, R10, I8, R5, C1), across clock changes."""
import email.utils
import os
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/London"
_configured: ZoneInfo | None = None


def utcnow() -> datetime:
    """Timezone-aware UTC now. Services take `now` as an argument and default to this."""
    return datetime.now(timezone.utc)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC, so mark it so."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def iso_utc(value: datetime | None) -> str | None:
    """A stored moment as ISO 8601 with its UTC offset (None stays None): the API's time format."""
    return as_utc(value).isoformat() if value is not None else None


@lru_cache(maxsize=8)
def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises ValueError for an unknown one (checked at start-up)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"ORG_TIMEZONE {name!r} is not an IANA time zone (e.g. Europe/London)") from None


def set_org_timezone(name: str | None) -> None:
    """Called by the app factory with its ORG_TIMEZONE; None falls back to the environment."""
    global _configured
    _configured = zone_named(name) if name else None


def org_zone() -> ZoneInfo:
    """The organisation's zone: the app's ORG_TIMEZONE, else the environment's, else Europe/London."""
    return _configured or zone_named(os.environ.get("ORG_TIMEZONE") or DEFAULT_TIMEZONE)


def local(moment: datetime) -> datetime:
    """A stored UTC moment on the organisation's wall clock."""
    return as_utc(moment).astimezone(org_zone())


def local_date(moment: datetime) -> date:
    """The organisation's calendar date at `moment` (e.g. 00:30 London on 1 July is 1 July, not 30 June)."""
    return local(moment).date()


def day_start(day: date) -> datetime:
    """Local midnight starting `day`, in UTC (23:00 UTC the evening before in British Summer Time)."""
    return _midnight(day, org_zone())


@lru_cache(maxsize=1024)
def _midnight(day: date, zone: ZoneInfo) -> datetime:  # ring time asks for the same few days all day
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def today_start(now: datetime, days_back: int = 0) -> datetime:
    """C2 "today" (days_back=0) and R10 windows: local midnight `days_back` calendar days before
    `now`'s local date, in UTC. Calendar days, so a window spanning a clock change still starts at midnight."""
    return day_start(local_date(now) - timedelta(days=days_back))


def week_monday(moment: datetime) -> date:
    """I8: the Monday (local date) of the ISO week `moment` falls in, on the organisation's clock."""
    day = local_date(moment)
    return day - timedelta(days=day.weekday())


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 2822 / HTTP date as Twilio sends it (`Timestamp`, `Retry-After`), in UTC; None if unreadable."""
    try:
        when = email.utils.parsedate_to_datetime(value.strip()) if value and value.strip() else None
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=when.tzinfo or timezone.utc) if when else None
