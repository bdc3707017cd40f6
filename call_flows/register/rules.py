"""R6 dates for caution-register entries, shared by the panel workflow and the spreadsheet import."""
from datetime import date, datetime, time, timezone

from dateutil.relativedelta import relativedelta
from call_flows.vocabulary import Marker, RegisterSource

REVIEW_AFTER = relativedelta(months=6)  # R6: each entry reviewed after 6 months
MAX_LIFE = relativedelta(years=3)  # R6: no entry stays more than 3 years
PARTNER_LIFE = relativedelta(years=1)  # R6: partners' entries last at most 1 year unless marker 1


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


def expires_at(added_on: date | datetime, source: str, marker: int | None) -> datetime:
    """R6: when an entry stops flagging, whatever happens at reviews."""
    life = PARTNER_LIFE if source == RegisterSource.PARTNER and marker != Marker.VIOLENT else MAX_LIFE
    return _as_datetime(added_on) + life


def review_due(added_on: date | datetime, last_reviewed_on: date | datetime | None) -> datetime:
    """R6: six months after the entry was added or last reviewed."""
    return _as_datetime(last_reviewed_on or added_on) + REVIEW_AFTER
