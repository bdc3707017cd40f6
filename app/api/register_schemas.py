"""Request bodies of the register API (R3-R9, C1), as pydantic models: validation and /openapi.json."""
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from call_flows.register.letter_template import MAX_LENGTH as TEMPLATE_MAX
from call_flows.validation import FreeText, RequiredText, Text
from call_flows.vocabulary import RegisterSource, RegisterStatus

from ..routing import MAX_ID
from .schemas import Body, shown_inline

Id = Annotated[int, Field(ge=1, le=MAX_ID)]  # a record id: fits the database's integer columns


class RegisterQuery(BaseModel):
    """The query of `GET /register/entries` (and the /register page's filter)."""

    status: Annotated[str | None, FreeText(40)] = Field(
        default=None, description="only entries with this status: " + ", ".join(RegisterStatus))


class ProposalIn(Body):
    """R3: a line manager proposes an entry from an incident record."""

    # R3: the organisation's own entries (source own, the default) are proposed on an incident record
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "if": {"properties": {"source": {"const": "own"}}}, "then": {"required": ["incident_id"]}})

    incident_id: Id | None = Field(default=None, description="R3: the incident record the entry is proposed on; "
                                   "required for the organisation's own entries (source own)")
    name: Annotated[str, FreeText(200, required=True)]
    summary: RequiredText
    phones: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=20)
    address: Text = None
    email: Annotated[str | None, FreeText(200)] = None
    case_references: list[Annotated[str | None, FreeText(64)]] = Field(default_factory=list, max_length=20)
    key_contact: Annotated[str | None, FreeText(200)] = None
    reporting_service: Annotated[str | None, FreeText(200)] = None
    source: Annotated[RegisterSource, shown_inline(RegisterSource, "Source")] = RegisterSource.OWN


class DecisionIn(Body):
    """R3 (members present, chair), R2 (marker), R7 (sharing)."""

    outcome: Literal["add", "reject"]
    member_ids: list[Id] = Field(max_length=20)
    chair_id: Id
    justification: RequiredText
    marker: Literal[1, 2, 3] | None = None
    precautions: Text = None
    share: bool = False
    share_with: Text = None
    share_justification: Text = None
    signatory_name: Annotated[str | None, FreeText(200)] = None
    signatory_title: Annotated[str | None, FreeText(200)] = None


class LetterSentIn(Body):
    sent_at: AwareDatetime | None = None


class ExemptionIn(Body):
    """R5: the only two exceptions, justified and documented."""

    reason: Literal["risk_of_violence", "address_unknown"]
    justification: RequiredText


class TemplateIn(Body):
    template: Annotated[str, FreeText(TEMPLATE_MAX, required=True)]


class ReviewIn(Body):
    outcome: Literal["keep", "remove"]
    notes: Text = None


class RegisterReviewIn(Body):
    notes: RequiredText


class AppealIn(Body):
    received_at: AwareDatetime | None = None
    summary: Text = None


class AppealOutcomeIn(Body):
    outcome: Literal["upheld", "dismissed"]
    notes: RequiredText


class PhoneIn(Body):
    phone: str = Field(min_length=1, max_length=64)


class ConcernIn(Body):
    """C1: the customer was told their conduct is a concern."""

    told_at: AwareDatetime | None = None
    channel: Literal["letter", "phone", "email", "in_person"]
    note: Text = None


class Hours(Body):
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    start: str = Field(pattern=r"^\d\d:\d\d$")
    end: str = Field(pattern=r"^\d\d:\d\d$")


class RestrictionIn(Body):
    kind: Literal["named_officer", "set_hours", "written_only"]
    detail: Text = None
    named_officer_id: Id | None = None
    hours: Hours | None = None


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value else None
