"""Request bodies for the callback queue and incident records (validation and /openapi.json)."""
from typing import Annotated, Literal

from pydantic import Field

from call_flows.validation import FreeText, Text

from .schemas import Body


class CancelIn(Body):
    reason: Annotated[str, FreeText(2000, required=True)]


class ReassignIn(Body):
    manager: Annotated[str, FreeText(80, required=True)] = Field(description="username of the line manager")


class DeputyIn(Body):
    deputy: Annotated[str | None, FreeText(80)] = Field(
        description="username of a line manager; null to take the queue back (required: a missing body or field "
                    "is a 400, never a silent hand-back)")


class IncidentIn(Body):
    """I1 fields, the RIDDOR and breach flags and the I3 welfare steps; any subset may be sent."""

    incident_date: Text = None
    incident_time: Text = None
    location: Text = None
    details: Text = None
    action_taken: Text = None
    staff_involved: Text = None
    reported_to: Text = None
    comments: Text = None
    welfare_note: Text = None
    riddor_reportable: bool | None = None
    security_breach: bool | None = None
    welfare_spoke_with_staff: bool | None = None
    welfare_support_offered: bool | None = None
    welfare_time_given: bool | None = None


class PoliceDecisionIn(Body):
    decision: Literal["police_informed", "police_not_needed"]
    note: Annotated[str, FreeText(2000, required=True)]
