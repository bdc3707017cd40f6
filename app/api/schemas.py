"""Request bodies of the staff API, as pydantic models: one source for validation and /openapi.json.
The pages post the same acts through the same models (app/forms.py); free text is call_flows.validation's."""
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from call_flows.validation import FreeText, Text
from call_flows.vocabulary import ImmediateReason, WarningReason


def shown_inline(enum: type[StrEnum], title: str, nullable: bool = False) -> WithJsonSchema:
    """/openapi.json shows a vocabulary field as the Literal it replaced (its codes in place, no $ref)."""
    codes = {"enum": [member.value for member in enum], "type": "string"}
    shown = {"anyOf": [codes, {"type": "null"}]} if nullable else codes
    return WithJsonSchema({**shown, "title": title})


Reason = Annotated[WarningReason, shown_inline(WarningReason, "Reason")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteFields(Body):  # one field per vocabulary.NoteField, spelled out to stay typed (test_vocabulary checks)
    """T4/M1 case-note fields written by staff (the service adds what it knows)."""

    spoke_to: Text = None
    query: Text = None
    told_customer: Text = None
    customer_said_or_did: Text = None


class WarningIn(Body):
    reason: Reason
    detail: Text = None


class NeedIn(Body):
    need: Annotated[str, FreeText(1000, required=True)]


class WithNote(Body):
    note: NoteFields | None = None

    def note_values(self) -> dict | None:
        """The note's fields as the services take them; None when no note was sent."""
        return self.note.model_dump(exclude_none=True) if self.note else None


class TerminationIn(WithNote):
    reason: Reason
    immediate_reason: Annotated[ImmediateReason | None,
                                shown_inline(ImmediateReason, "Immediate Reason", nullable=True)] = None
    immediate_detail: Text = None
    case_reference: Annotated[str | None, FreeText(64)] = None


class OutcomeIn(WithNote):
    outcome: Literal["resolved", "behaviour_not_improved", "no_answer"]  # vocabulary.RECORDED_OUTCOMES (tested)


class SettingIn(Body):
    """One organisation setting; its type must be the type of the setting's default (text or a number)."""

    value: str | int | float | bool
