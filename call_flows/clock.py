"""One place that reads the clock, so tests can pass `now` in or move time on."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Timezone-aware UTC now. Services take `now` as an argument and default to this."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC, so mark it so."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
