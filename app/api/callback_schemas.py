"""Request bodies for the callback queue and incident records (validation and /openapi.json)."""
from typing import Literal

from pydantic import Field

from .schemas import Body, Text


class CancelIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


class ReassignIn(Body):
    manager: str = Field(min_length=1, max_length=80, description="username of the line manager")


class DeputyIn(Body):
    deputy: str | None = Field(max_length=80, description="username of a line manager; null to take the queue back "
                               "(required: a missing body or field is a 400, never a silent hand-back)")


class IncidentIn(Body):
    """I1 fields, the RIDDOR and breach flags and the I3 welfare steps; any subset may be sent."""

    incident_date: str | None = Text
    incident_time: str | None = Text
    location: str | None = Text
    details: str | None = Text
    action_taken: str | None = Text
    staff_involved: str | None = Text
    reported_to: str | None = Text
    comments: str | None = Text
    welfare_note: str | None = Text
    riddor_reportable: bool | None = None
    security_breach: bool | None = None
    welfare_spoke_with_staff: bool | None = None
    welfare_support_offered: bool | None = None
    welfare_time_given: bool | None = None


class PoliceDecisionIn(Body):
    decision: Literal["police_informed", "police_not_needed"]
    note: str = Field(min_length=1, max_length=2000)
