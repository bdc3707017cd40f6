"""Request bodies of the staff API, as pydantic models: one source for validation and /openapi.json."""
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from call_flows.vocabulary import ImmediateReason, WarningReason


def shown_inline(enum: type[StrEnum], title: str, nullable: bool = False) -> WithJsonSchema:
    """/openapi.json shows a vocabulary field as the Literal it replaced (its codes in place, no $ref)."""
    codes = {"enum": [member.value for member in enum], "type": "string"}
    shown = {"anyOf": [codes, {"type": "null"}]} if nullable else codes
    return WithJsonSchema({**shown, "title": title})



Reason = Annotated[WarningReason, shown_inline(WarningReason, "Reason")]
Text = Field(default=None, max_length=4000)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteFields(Body):  # one field per vocabulary.NoteField, spelled out to stay typed (test_vocabulary checks)
    """T4/M1 case-note fields written by staff (the service adds what it knows)."""

    spoke_to: str | None = Text
    query: str | None = Text
    told_customer: str | None = Text
    customer_said_or_did: str | None = Text


class WarningIn(Body):
    reason: Reason
    detail: str | None = Text


class NeedIn(Body):
    need: str = Field(max_length=1000)


class TerminationIn(Body):
    reason: Reason
    immediate_reason: Annotated[ImmediateReason | None,
                                shown_inline(ImmediateReason, "Immediate Reason", nullable=True)] = None
    immediate_detail: str | None = Text
    case_reference: str | None = Field(default=None, max_length=64)
    note: NoteFields | None = None


class OutcomeIn(Body):
    outcome: Literal["resolved", "behaviour_not_improved", "no_answer"]  # vocabulary.RECORDED_OUTCOMES (tested)
    note: NoteFields | None = None


class SettingIn(Body):
    """One organisation setting; its type must be the type of the setting's default (text or a number)."""

    value: str | int | float | bool
