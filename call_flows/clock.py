"""One place that reads the clock, so tests can pass `now` in or move time on."""
import email.utils
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Timezone-aware UTC now. Services take `now` as an argument and default to this."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC, so mark it so."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 2822 / HTTP date as Twilio sends it (`Timestamp`, `Retry-After`), in UTC; None if unreadable."""
    try:
        when = email.utils.parsedate_to_datetime(value.strip()) if value and value.strip() else None
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=when.tzinfo or timezone.utc) if when else None
