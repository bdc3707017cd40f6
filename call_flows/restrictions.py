"""Contact restrictions (C1, C3): what a restricted caller hears at ring time."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/London")


def _hours(hours) -> dict | None:
    if isinstance(hours, str):
        return json.loads(hours)
    return hours


def routing_for(kind: str, detail: str | None, officer_id: int | None, hours, now: datetime) -> dict:
    """C3: route as the restriction says; the caller keeps the right to contact about new issues."""
    hours = _hours(hours)
    if kind == "set_hours" and hours:
        local = now.astimezone(LOCAL)
        days = hours.get("days", [0, 1, 2, 3, 4])
        start, end = hours.get("start", "10:00"), hours.get("end", "12:00")
        inside = local.weekday() in days and start <= local.strftime("%H:%M") < end
        if not inside:
            return {"kind": kind, "officer_id": officer_id, "end_call": True,
                    "message": f"We can take your call between {start} and {end} on weekdays. "
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
