"""Contact restrictions (C1, C3): what a restricted caller hears at ring time.

C3: the call follows the restriction and is never silently dropped: a caller outside their permitted
hours, or restricted to writing, is told politely when and how they may get in touch (including
about new issues); a caller with a named officer is connected and the officer is named in the
routing so consoles and the board can send the call to them.
"""
from typing import Any, cast
import json
import re
from datetime import datetime

from call_flows.clock import local
from call_flows.errors import InvalidInput

KINDS = ("named_officer", "set_hours", "written_only")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _hours(hours: object) -> dict[str, Any] | None:
    if isinstance(hours, str):
        return cast(dict[str, Any], json.loads(hours))
    return cast(dict[str, Any] | None, hours)


def check_hours(hours: object) -> dict[str, Any]:
    """C1 set hours: {"days": [0-6, Monday = 0], "start": "HH:MM", "end": "HH:MM"} (ORG_TIMEZONE local time)."""
    if not isinstance(hours, dict):
        raise InvalidInput('hours must be an object like {"days": [0, 2], "start": "10:00", "end": "12:00"}')
    days = hours.get("days", [0, 1, 2, 3, 4])
    start, end = hours.get("start"), hours.get("end")
    if (not isinstance(days, list) or not days or len(days) > 7
            or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days)):
        raise InvalidInput("hours.days must list weekdays 0 (Monday) to 6 (Sunday)")
    if not (isinstance(start, str) and _HHMM.match(start) and isinstance(end, str) and _HHMM.match(end)):
        raise InvalidInput("hours.start and hours.end must be times like 09:30")
    if start >= end:
        raise InvalidInput("hours.start must be before hours.end")
    return {"days": sorted(set(days)), "start": start, "end": end}


def describe_days(days: list[int]) -> str:
    if sorted(days) == [0, 1, 2, 3, 4]:
        return "on weekdays"
    names = [DAY_NAMES[d] for d in sorted(days)]
    return "on " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def routing_for(kind: str, detail: str | None, officer_id: int | None, hours: object, now: datetime) -> dict[str, Any]:
    """C3: route as the restriction says; the caller keeps the right to contact about new issues."""
    hours = _hours(hours)
    if kind == "set_hours" and hours:
        wall = local(now)
        days = hours.get("days", [0, 1, 2, 3, 4])
        start, end = hours.get("start", "10:00"), hours.get("end", "12:00")
        inside = wall.weekday() in days and start <= wall.strftime("%H:%M") < end
        if not inside:
            return {"kind": kind, "officer_id": officer_id, "end_call": True,
                    "message": f"We can take your call between {start} and {end} {describe_days(days)}. "
                               "Please call again then, or write to us about any new issue."}
        return {"kind": kind, "officer_id": officer_id, "end_call": False, "message": None}
    if kind == "written_only":
        return {"kind": kind, "officer_id": officer_id, "end_call": True,
                "message": "We have asked you to contact us in writing. Please write to us, including about "
                           "any new issue, and we will reply."}
    if kind == "named_officer":
        return {"kind": kind, "officer_id": officer_id, "end_call": False,
                "message": "Thank you for calling. We are connecting you to your named officer."}
    return {"kind": kind, "officer_id": officer_id, "end_call": False, "message": None}
