"""The call platform over Twilio's REST API, through the `twilio` library (call_flows.platform.protocol).
Each failure is sorted by call_flows.platform.faults into terminal and transient faults."""
from collections.abc import Callable
from datetime import datetime
from typing import Any

from requests import ConnectTimeout, RequestException
from urllib3.exceptions import NewConnectionError
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException

from call_flows.platform.protocol import CallRecord
from call_flows.platform.faults import CallerGone, PlatformUnavailable, from_rest_error, retry_after_seconds


def _never_sent(exc: RequestException) -> bool:
    """True when the request cannot have reached Twilio: the connection was never made."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, (ConnectTimeout, NewConnectionError)):
            return True
        seen.add(id(cause))
        cause = getattr(cause, "reason", None) or (cause.args[0] if cause.args and isinstance(cause.args[0], Exception)
                                                   else None) or cause.__cause__ or cause.__context__
    return False


class TwilioPlatform:
    """Twilio Programmable Voice over REST. `client` is a `twilio.rest.Client`."""

    def __init__(self, client: Any, caller_id: str | None, public_base_url: str):
        self.client = client
        self.caller_id = caller_id
        self.public_base_url = public_base_url.rstrip("/")

    def url(self, path: str) -> str:
        """An absolute URL Twilio can reach for one of our webhooks."""
        return self.public_base_url + path

    def _rest(self, request: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Make one REST request; a failure is raised as a PlatformFault, sorted into terminal
        (CallerGone, PlatformRefused) or transient (PlatformUnavailable, with Twilio's Retry-After)."""
        try:
            return request(*args, **kwargs)
        except RequestException as exc:  # timed out or unreachable
            fault = PlatformUnavailable(f"{type(exc).__name__}: {exc}")
            fault.outcome_unknown = not _never_sent(exc)  # a read timeout or a dropped answer may have landed
            raise fault from exc
        except TwilioException as exc:
            status = getattr(exc, "status", None)
            if not isinstance(status, int):
                raise PlatformUnavailable(f"{type(exc).__name__}: {exc}") from exc
            code = getattr(exc, "code", None)
            last_header = getattr(self.client.http_client, "last_header", None)
            retry_after = retry_after_seconds(last_header("Retry-After")) if last_header else None
            raise from_rest_error(status, code if isinstance(code, int) else None,
                                  getattr(exc, "msg", None) or getattr(exc, "detail", None) or str(status),
                                  retry_after) from exc

    def redirect_call(self, session: Session, call_sid: str, twiml: str, now: datetime | None = None) -> None:
        """Replace what the caller's leg is doing (a warning or the final notice).

        Raises CallerGone when the caller has already hung up (Twilio 21220 or 20404)."""
        self._rest(self.client.calls(call_sid).update, twiml=twiml)

    def call_status(self, session: Session, call_sid: str) -> str:
        """Twilio's state of a call (GET /Calls/{CallSid}): `queued`, `ringing`, `in-progress`,
        `completed`, `busy`, `failed`, `no-answer` or `canceled`; `completed` for a call Twilio no
        longer knows (20404). Raises PlatformUnavailable on a 429/5xx/timeout."""
        return self.call_record(session, call_sid).status

    def call_record(self, session: Session, call_sid: str) -> CallRecord:
        """GET /Calls/{CallSid}: `status` and `date_updated` (RFC 2822, to the second), which
        Twilio moves when a redirect lands; ("completed", None) for a call it no longer knows."""
        try:
            call = self._rest(self.client.calls(call_sid).fetch)
        except CallerGone:
            return CallRecord("completed", None)
        return CallRecord(call.status, call.date_updated)

    def add_participant(self, session: Session, conference: str, to: str, from_: str,
                        status_callback: str | None = None, now: datetime | None = None) -> str:
        """Ring a member of staff into a call's conference; returns the new leg's CallSid.

        The staff leg starts the conference (the caller waits in it with hold music until then) and
        ends it when it leaves."""
        kwargs = {"from_": from_, "to": to, "start_conference_on_enter": True, "end_conference_on_exit": True,
                  "beep": "false"}
        if status_callback:
            kwargs.update(status_callback=status_callback, status_callback_event=["completed"])
        participant = self._rest(self.client.conferences(conference).participants.create, **kwargs)
        leg_sid: str = participant.call_sid
        return leg_sid

    def place_call(self, session: Session, to: str, from_: str, twiml: str | None,
                   status_callback: str | None = None, now: datetime | None = None, url: str | None = None) -> str:
        """Start an outbound call that runs `twiml` when answered (a manager's callback), or fetches
        its TwiML from our signed webhook `url` when answered (the handler's whisper, 14.10)."""
        kwargs: dict[str, object] = {"to": to, "from_": from_, **({"url": url} if url else {"twiml": twiml})}
        if status_callback:
            kwargs.update(status_callback=status_callback, status_callback_event=["completed"])
        call_sid: str = self._rest(self.client.calls.create, **kwargs).sid
        return call_sid
