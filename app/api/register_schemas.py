"""Request bodies of the register API (R3-R9, C1), as pydantic models: validation and /openapi.json."""
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from call_flows.vocabulary import RegisterSource

from .schemas import shown_inline

Text = Field(default=None, max_length=4000)
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]  # a record id: fits the database's integer columns


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposalIn(Body):
    """R3: a line manager proposes an entry from an incident record."""

    # R3: the organisation's own entries (source own, the default) are proposed on an incident record
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "if": {"properties": {"source": {"const": "own"}}}, "then": {"required": ["incident_id"]}})

    incident_id: Id | None = Field(default=None, description="R3: the incident record the entry is proposed on; "
                                   "required for the organisation's own entries (source own)")
    name: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=4000)
    phones: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=20)
    address: str | None = Text
    email: str | None = Field(default=None, max_length=200)
    case_references: list[str] = Field(default_factory=list, max_length=20)
    key_contact: str | None = Field(default=None, max_length=200)
    reporting_service: str | None = Field(default=None, max_length=200)
    source: Annotated[RegisterSource, shown_inline(RegisterSource, "Source")] = RegisterSource.OWN


class DecisionIn(Body):
    """R3 (members present, chair), R2 (marker), R7 (sharing)."""

    outcome: Literal["add", "reject"]
    member_ids: list[Id] = Field(max_length=20)
    chair_id: Id
    justification: str = Field(min_length=1, max_length=4000)
    marker: Literal[1, 2, 3] | None = None
    precautions: str | None = Text
    share: bool = False
    share_with: str | None = Text
    share_justification: str | None = Text
    signatory_name: str | None = Field(default=None, max_length=200)
    signatory_title: str | None = Field(default=None, max_length=200)


class LetterSentIn(Body):
    sent_at: AwareDatetime | None = None


class ExemptionIn(Body):
    """R5: the only two exceptions, justified and documented."""

    reason: Literal["risk_of_violence", "address_unknown"]
    justification: str = Field(min_length=1, max_length=4000)


class TemplateIn(Body):
    template: str = Field(min_length=1, max_length=20000)


class ReviewIn(Body):
    outcome: Literal["keep", "remove"]
    notes: str | None = Text


class RegisterReviewIn(Body):
    notes: str = Field(min_length=1, max_length=4000)


class AppealIn(Body):
    received_at: AwareDatetime | None = None
    summary: str | None = Text


class AppealOutcomeIn(Body):
    outcome: Literal["upheld", "dismissed"]
    notes: str = Field(min_length=1, max_length=4000)


class PhoneIn(Body):
    phone: str = Field(min_length=1, max_length=64)


class ConcernIn(Body):
    """C1: the customer was told their conduct is a concern."""

    told_at: AwareDatetime | None = None
    channel: Literal["letter", "phone", "email", "in_person"]
    note: str | None = Text


class Hours(Body):
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    start: str = Field(pattern=r"^\d\d:\d\d$")
    end: str = Field(pattern=r"^\d\d:\d\d$")


class RestrictionIn(Body):
    kind: Literal["named_officer", "set_hours", "written_only"]
    detail: str | None = Text
    named_officer_id: Id | None = None
    hours: Hours | None = None


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value else None
