"""What the domain asks of the call platform. Two implementations: Twilio over REST
(call_flows.platform.twilio_rest) and the embedded default's simulator (call_flows.platform.simulated),
which emulates Twilio's status callbacks so the domain never asks which one it has.

Every request may raise a call_flows.platform.faults.PlatformFault: CallerGone or PlatformRefused
(terminal), PlatformUnavailable (transient, with the platform's `retry_after`)."""
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy.orm import Session


class CallRecord(NamedTuple):
    """What the platform's GET /Calls/{CallSid} tells: the call's `status` and `updated_at`, when
    the platform last changed the call (Twilio's `date_updated`, to the second: a redirect that
    landed, a status change). Twilio does not say which TwiML ran; `updated_at` is how a retry
    tells whether an earlier attempt's redirect landed (call_flows.jobs.effects)."""

    status: str
    updated_at: datetime | None


class CallPlatform(Protocol):
    caller_id: str | None  # the organisation's number presented on calls we place (TWILIO_CALLER_ID)

    def url(self, path: str) -> str:
        """An absolute URL the platform can reach for one of our webhooks."""

    def redirect_call(self, session: Session, call_sid: str, twiml: str, now: datetime | None = None) -> None:
        """Replace what a live call is doing with `twiml` (a warning, the final notice). Raises
        CallerGone when the call is no longer in progress (Twilio 21220) or unknown (20404)."""

    def call_status(self, session: Session, call_sid: str) -> str:
        """The platform's state of a call: queued, ringing, in-progress, completed, busy, failed,
        no-answer or canceled; `completed` for a call the platform no longer knows."""

    def call_record(self, session: Session, call_sid: str) -> CallRecord:
        """The call's status and when the platform last changed it (CallRecord); `completed` and
        None for a call the platform no longer knows."""

    def add_participant(self, session: Session, conference: str, to: str, from_: str,
                        status_callback: str | None = None, now: datetime | None = None) -> str:
        """Ring `to` into `conference` (a handler joining a caller); returns the new leg's CallSid."""

    def place_call(self, session: Session, to: str, from_: str, twiml: str | None,
                   status_callback: str | None = None, now: datetime | None = None, url: str | None = None) -> str:
        """Create an outbound call that runs `twiml` (or fetches its TwiML from `url`) when answered
        (a manager's callback, a handler's whisper); returns its CallSid (CA + 32 hex digits). The
        legs it dials report to the status callbacks its TwiML names, in Twilio's order: initiated,
        ringing, answered (CallStatus in-progress), completed."""
