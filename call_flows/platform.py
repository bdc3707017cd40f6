"""The call platform: real Twilio through the `twilio` library, or a simulated one for the
embedded default that records what it was asked to do (what the caller would hear)."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException

from .clock import utcnow
from .models import Call, PlatformAction
from .status import FINAL

NOT_IN_PROGRESS = 21220  # Twilio: "Calls that have completed cannot be recorded or redirected."


class CallNotInProgress(Exception):
    """The platform refused to redirect a call that is no longer in progress (Twilio error 21220):
    the caller has gone, so nothing was played."""


class TwilioPlatform:
    """Twilio Programmable Voice over REST. `client` is a `twilio.rest.Client`."""

    simulated = False

    def __init__(self, client, caller_id: str | None, public_base_url: str):
        self.client = client
        self.caller_id = caller_id
        self.public_base_url = public_base_url.rstrip("/")

    def url(self, path: str) -> str:
        """An absolute URL Twilio can reach for one of our webhooks."""
        return self.public_base_url + path

    def redirect_call(self, session: Session, call_sid: str, twiml: str, now: datetime | None = None) -> None:
        """Replace what the caller's leg is doing (a warning or the final notice).
        Raises CallNotInProgress when Twilio answers 21220 (the call has completed)."""
        try:
            self.client.calls(call_sid).update(twiml=twiml)
        except TwilioRestException as exc:
            if exc.code == NOT_IN_PROGRESS:
                raise CallNotInProgress(exc.msg) from exc
            raise

    def add_participant(self, session: Session, conference: str, to: str, from_: str,
                        status_callback: str | None = None, now: datetime | None = None) -> str:
        """Ring a member of staff into a call's conference; returns the new leg's CallSid."""
        kwargs = {"from_": from_, "to": to, "end_conference_on_exit": True, "beep": "false"}
        if status_callback:
            kwargs.update(status_callback=status_callback, status_callback_event=["completed"])
        participant = self.client.conferences(conference).participants.create(**kwargs)
        return participant.call_sid

    def place_call(self, session: Session, to: str, from_: str, twiml: str | None,
                   status_callback: str | None = None, now: datetime | None = None, url: str | None = None) -> str:
        """Start an outbound call that runs `twiml` when answered (a manager's callback), or fetches
        its TwiML from our signed webhook `url` when answered (the handler's whisper, 14.10)."""
        kwargs = {"to": to, "from_": from_, **({"url": url} if url else {"twiml": twiml})}
        if status_callback:
            kwargs.update(status_callback=status_callback, status_callback_event=["completed"])
        return self.client.calls.create(**kwargs).sid


class SimulatedPlatform:
    """Embedded default: records each request as a PlatformAction in the caller's transaction.

    After <Hangup/>: once a call's TwiML has ended it (the final notice) or its status is final,
    a further redirect is refused with CallNotInProgress, as Twilio refuses it (error 21220), and
    nothing is logged: `flask sim hear` lists only what the caller could really have heard."""

    simulated = True

    def __init__(self, caller_id: str | None = None, public_base_url: str = "http://127.0.0.1:5000"):
        self.caller_id = caller_id
        self.public_base_url = public_base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.public_base_url + path

    def _log(self, session: Session, call_sid: str | None, action: str, payload: dict, now) -> None:
        session.add(PlatformAction(call_sid=call_sid, action=action, payload=payload, created_at=now or utcnow()))

    def redirect_call(self, session, call_sid, twiml, now=None):
        if self._hung_up(session, call_sid):
            raise CallNotInProgress(f"{call_sid} is not in progress (simulated Twilio error {NOT_IN_PROGRESS})")
        self._log(session, call_sid, "redirect", {"twiml": twiml}, now)

    @staticmethod
    def _hung_up(session: Session, call_sid: str) -> bool:
        if session.scalar(select(Call.id).where(Call.call_sid == call_sid, Call.status.in_(FINAL))) is not None:
            return True
        sent = session.scalars(select(PlatformAction.payload).where(PlatformAction.call_sid == call_sid,
                                                                    PlatformAction.action == "redirect"))
        return any("<Hangup" in (payload or {}).get("twiml", "") for payload in sent)

    def add_participant(self, session, conference, to, from_, status_callback=None, now=None):
        self._log(session, None, "add_participant", {"conference": conference, "to": to, "from": from_}, now)
        return "CAsimulated"

    def place_call(self, session, to, from_, twiml, status_callback=None, now=None, url=None):
        self._log(session, None, "place_call", {"to": to, "from": from_, **({"url": url} if url else {"twiml": twiml})},
                  now)
        return "CAsimulated"
