"""The embedded default's call platform: nothing is dialled. Each request is recorded as a
PlatformAction in the caller's transaction (what the caller would hear: `flask sim hear`), and the
legs a placed call's TwiML dials report their status as Twilio's StatusCallback would (events
initiated, ringing, answered, completed, those the TwiML subscribed to, in that order), through the
same code path as Twilio's webhooks (call_flows.callbacks.legs). The domain never asks which
platform it has (call_flows.platform.protocol)."""
import re
import secrets
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.callbacks import legs
from call_flows.vocabulary import ENDED
from call_flows.clock import utcnow
from call_flows.models import Call, PlatformAction
from call_flows.platform.faults import CallerGone
from call_flows.platform.protocol import CallRecord

EVENTS = ("initiated", "ringing", "answered", "completed")  # Twilio's order for a dialled leg
CALL_STATUS = {"answered": "in-progress"}  # the CallStatus Twilio sends with each event, when not its name
LEG_URL = re.compile(re.escape(legs.LEG_EVENTS).replace(re.escape("{call_id}"), r"(\d+)") + "$")


def new_call_sid() -> str:
    """A CallSid shaped as Twilio's: CA and 32 hex digits."""
    return "CA" + secrets.token_hex(16)


class SimulatedPlatform:
    """As Twilio, without a network. After <Hangup/>: once a call's TwiML has ended it (the final
    notice) or its status is final, a further redirect is refused with CallerGone, as Twilio refuses
    it (error 21220), and nothing is logged."""

    def __init__(self, caller_id: str | None = None, public_base_url: str = "http://127.0.0.1:5000"):
        self.caller_id = caller_id
        self.public_base_url = public_base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.public_base_url + path

    def redirect_call(self, session: Session, call_sid: str, twiml: str, now: datetime | None = None) -> None:
        """As Twilio: a call that has ended cannot be redirected (error 21220). TwiML that hangs up
        ends the call: a leg this platform dialled reports `completed`."""
        if self._ended(session, call_sid):
            raise CallerGone(f"HTTP 400, Twilio error 21220: call {call_sid} is not in progress", 21220, 400)
        now = now or utcnow()
        self._log(session, call_sid, "redirect", {"twiml": twiml}, now)
        if "<Hangup" in twiml:
            self._report(session, call_sid, "completed", now)

    def call_status(self, session: Session, call_sid: str) -> str:
        """As Twilio's GET /Calls/{CallSid}: `completed` once the call ended, else `in-progress`."""
        return "completed" if self._ended(session, call_sid) else "in-progress"

    def call_record(self, session: Session, call_sid: str) -> CallRecord:
        """The status, and when a redirect of the call was last logged (None: never)."""
        updated = session.scalar(select(func.max(PlatformAction.created_at)).where(
            PlatformAction.call_sid == call_sid, PlatformAction.action == "redirect"))
        return CallRecord(self.call_status(session, call_sid), updated)

    def add_participant(self, session: Session, conference: str, to: str, from_: str,
                        status_callback: str | None = None, now: datetime | None = None) -> str:
        """As Twilio: the conference of a call that has ended is gone (error 20404)."""
        if conference.startswith("cg-") and self._ended(session, conference[3:]):
            raise CallerGone(f"HTTP 404, Twilio error 20404: conference {conference} not found", 20404, 404)
        sid = new_call_sid()
        self._log(session, sid, "add_participant", {"conference": conference, "to": to, "from": from_}, now)
        return sid

    def place_call(self, session: Session, to: str, from_: str, twiml: str | None,
                   status_callback: str | None = None, now: datetime | None = None, url: str | None = None) -> str:
        """Answered at once; each <Dial><Number statusCallback> in its TwiML becomes a leg, answered
        at once too, that reports the events it subscribed to (completed when TwiML hangs it up)."""
        now = now or utcnow()
        sid = new_call_sid()
        self._log(session, sid, "place_call", {"to": to, "from": from_, **({"url": url} if url else {"twiml": twiml})},
                  now)
        for number in ElementTree.fromstring(twiml).iter("Number") if twiml else ():
            leg_sid, callback = new_call_sid(), number.get("statusCallback")
            events = (number.get("statusCallbackEvent") or "completed").split() if callback else []
            self._log(session, leg_sid, "dial", {"to": (number.text or "").strip(), "from": from_, "parent": sid,
                                                  "status_callback": callback, "events": events}, now)
            for event in EVENTS[:3]:
                self._report(session, leg_sid, event, now)
        return sid

    def _log(self, session: Session, call_sid: str | None, action: str, payload: dict[str, Any],
             now: datetime | None) -> None:
        session.add(PlatformAction(call_sid=call_sid, action=action, payload=payload, created_at=now or utcnow()))

    def _report(self, session: Session, leg_sid: str, event: str, now: datetime) -> None:
        """Send `event` of a leg this platform dialled to its status callback, if it subscribed to it."""
        dialled = session.scalar(select(PlatformAction.payload).where(PlatformAction.call_sid == leg_sid,
                                                                      PlatformAction.action == "dial")) or {}
        events, callback = dialled.get("events", []), dialled.get("status_callback") or ""
        if event not in events:
            return
        target = LEG_URL.search(callback)
        if target is None:  # no other status callback is ever given to a dialled leg
            raise ValueError(f"the simulated platform cannot deliver to {callback}")
        legs.leg_status(session, int(target.group(1)), leg_sid, CALL_STATUS.get(event, event), now,
                        sequence=str(events.index(event)))  # a form field, as Twilio sends it

    def _ended(self, session: Session, call_sid: str) -> bool:
        """As Twilio sees it: the call has a final status, or the TwiML it was sent reached <Hangup/>."""
        if session.scalar(select(Call.id).where(Call.call_sid == call_sid, Call.status.in_(ENDED))) is not None:
            return True
        sent = session.scalars(select(PlatformAction.payload).where(PlatformAction.call_sid == call_sid,
                                                                    PlatformAction.action == "redirect"))
        return any("<Hangup" in (payload or {}).get("twiml", "") for payload in sent)
