"""14.10: the whisper a handler hears on their own phone before the caller is connected, so a flag
(R1 marker, R10/C2 signals, C3 restriction) reaches people who do not have the console open.

The handler's leg is an outbound call whose answer URL (`/twilio/voice/whisper/<CallSid>`) speaks the
whisper and only then dials the leg into the caller's conference (Twilio's documented answer-URL
mechanism, as `<Number url>` does for a dialled number): the caller, already in the conference, never
hears it. Wording is the organisation's (`handler_whisper_flagged`, `handler_whisper_unflagged`);
unflagged callers get no whisper unless the second one is set.
"""
from typing import Any
from datetime import datetime

from sqlalchemy.orm import Session

from call_flows.calls import twiml
from call_flows.calls.board import caller_flags
from call_flows.models import Call
from call_flows.vocabulary import ENDED
from call_flows.settings import OrgSettings

WHISPER_PATH = "/twilio/voice/whisper/"


def flag_words(flags: dict[str, Any]) -> str:
    """The flags spoken plainly, e.g. "marker 2, contact restriction, repeat warnings" ("" when none)."""
    words = [f"marker {flags['marker']}"] if flags.get("marker") else []
    if flags.get("restricted"):
        words.append("contact restriction")
    words += [signal.replace("_", " ") for signal in flags.get("signals") or []]
    return ", ".join(words)


def whisper_text(flags: dict[str, Any], settings: OrgSettings) -> str:
    """What the handler hears for a caller with `flags` (see board.caller_flags); "" = no whisper.
    `{flags}` in the organisation's wording is replaced by `flag_words` (no other formatting is done,
    so a stored wording cannot reach anything else)."""
    template: str = settings.handler_whisper_flagged if flags.get("flagged") else settings.handler_whisper_unflagged
    return template.replace("{flags}", flag_words(flags)).strip()


def for_call(session: Session, call: Call, now: datetime, settings: OrgSettings) -> str:
    """The whisper for the handler of `call`, from its caller's flags as ring time saw them."""
    return whisper_text(caller_flags(session, call, now, settings), settings)


def handler_leg(session: Session, call_sid: str, now: datetime, settings: OrgSettings) -> str:
    """TwiML for the handler's answered leg: the whisper, then the caller's conference. A call that is
    unknown or already over answers <Hangup/> (nobody is left to talk to)."""
    call = session.query(Call).filter_by(call_sid=call_sid).one_or_none()
    if call is None or call.status in ENDED or call.ended_at is not None:
        return twiml.hang_up()
    return twiml.handler_join(call_sid, for_call(session, call, now, settings), settings)
