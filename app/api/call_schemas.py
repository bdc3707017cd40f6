"""Response bodies of the call endpoints (CONTRACT `GET /api/v1/calls/{CallSid}`), as pydantic models:
the view answers through them and /openapi.json is built from them, so the two cannot drift."""
from typing import Annotated, Literal

from pydantic import BaseModel

from call_flows.calls.history import Search
from call_flows.vocabulary import PlayStatus

from .schemas import shown_inline

PlatformStatus = Annotated[PlayStatus, shown_inline(PlayStatus, "Platform Status")]


class RingFlagsOut(BaseModel):
    """The caller's flags as they were at ring time (R1 marker 1-3, R10/C2 signals, C3 restriction)."""

    marker: int | None
    signals: list[str]
    restricted: bool


class WarningOut(BaseModel):
    id: int
    reason: str
    created_at: str
    platform_status: PlatformStatus


class TerminationOut(BaseModel):
    id: int
    immediate_reason: str | None
    platform_status: PlatformStatus
    case_note_id: int | None
    incident_id: int | None
    callback_task_id: int | None


class CallSummaryOut(BaseModel):
    """One call without its lists. Times are ISO 8601 in UTC; `caller` is E.164, or null when withheld
    or not a number."""

    call_sid: str
    caller: str | None
    caller_kind: Literal["number", "withheld", "client", "sip", "invalid"]
    status: str
    started_at: str
    answered_at: str | None
    ended_at: str | None
    handler: str | None
    flags: RingFlagsOut


class CallOut(CallSummaryOut):
    """One call with its warnings (T1) and termination (T3-T5)."""

    warnings: list[WarningOut]
    termination: TerminationOut | None


class CallHistoryOut(BaseModel):
    """A page of call history, newest first; `next_page` is the next page's number, or null on the last."""

    calls: list[CallSummaryOut]
    next_page: int | None


class CallSearch(Search):
    """The query of `GET /calls`: call_flows.calls.history.Search, read by app.forms.query_args."""
