"""Pure TwiML builders. Everything the caller hears is built here with VoiceResponse, never strings."""
from typing import Any
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from twilio.twiml.voice_response import Dial, VoiceResponse

if TYPE_CHECKING:  # settings imports this module
    from call_flows.settings import OrgSettings

# Twilio's own default <Conference waitUrl> (its hold-music twimlet, fetched with GET), as Twilio's
# <Conference> docs give it. An explicit URL, because waitUrl="" would mean silence.
TWILIO_DEFAULT_HOLD_MUSIC = "https://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"


def conference_name(call_sid: str) -> str:
    """One conference per call, so the service can speak to the caller alone and keep the handler."""
    return f"cg-{call_sid}"


def _speak(response: VoiceResponse, text: str, settings: "OrgSettings", recording_url: str = "") -> None:
    if recording_url:
        response.play(recording_url)
    else:
        response.say(text, voice=settings.say_voice, language=settings.say_language)


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL (Twilio refuses any other waitUrl or <Play> URL)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value.strip())


def hold_music_url(settings: "OrgSettings") -> str:
    """What a caller hears while waiting for a handler: the organisation's `hold_music_url` (music, or
    TwiML with a message), else Twilio's default hold music. Never empty: an empty waitUrl is silence."""
    value = (settings.hold_music_url or "").strip()
    return value if is_http_url(value) else TWILIO_DEFAULT_HOLD_MUSIC


def _join_conference(response: VoiceResponse, call_sid: str, events_url: str | None, settings: "OrgSettings") -> None:
    """The caller's leg joins their call's conference.

    Twilio's <Conference> semantics: a participant with startConferenceOnEnter="false" who finds the
    conference not yet started hears the waitUrl (our hold music) until a participant with
    startConferenceOnEnter="true" joins. Only the handler's leg starts it (platform.add_participant,
    callback_twiml.after_bridge), so the caller waits with music until a handler is there. After a
    warning the caller rejoins the same conference; the handler kept it started, so they are back
    with the handler at once and hear no hold music.
    """
    dial = Dial()
    kwargs = dict(
        start_conference_on_enter=False,
        wait_url=hold_music_url(settings),
        wait_method="GET",  # a music file, a twimlet or a TwiML Bin: GET lets Twilio cache it
        # The caller leaving briefly to hear a warning must not end the handler's side.
        end_conference_on_exit=False,
        beep=False,
    )
    if events_url:
        kwargs.update(status_callback=events_url, status_callback_event="start end join leave",
                      status_callback_method="POST")
    dial.conference(conference_name(call_sid), **kwargs)
    response.append(dial)


def for_ring(call_sid: str, settings: "OrgSettings", events_url: str | None, restriction: dict[str, Any] | None = None) -> str:
    """The caller is greeted and put into their call's conference to wait for a handler.

    C3: a restricted caller is routed as the restriction says, never silently dropped.
    """
    response = VoiceResponse()
    if restriction and restriction.get("message"):
        _speak(response, restriction["message"], settings)
        if restriction.get("end_call"):
            response.hangup()
            return str(response)
    else:
        _speak(response, settings.greeting, settings)
    _join_conference(response, call_sid, events_url, settings)
    return str(response)


def warning(call_sid: str, settings: "OrgSettings", events_url: str | None) -> str:
    """T1: the caller hears the warning, then rejoins the handler in the same conference."""
    response = VoiceResponse()
    _speak(response, settings.warning_message, settings, settings.warning_recording_url)
    _join_conference(response, call_sid, events_url, settings)
    return str(response)


def rejoin(call_sid: str, settings: "OrgSettings", events_url: str | None) -> str:
    """The caller goes back into their call's conference (Twilio's fallback URL, mid-call): with
    their handler if the handler is there, else waiting with hold music."""
    response = VoiceResponse()
    _join_conference(response, call_sid, events_url, settings)
    return str(response)


def ring_back(settings: "OrgSettings") -> str:
    """Nothing else can be done for this call: the caller is told to ring back, then the call ends."""
    response = VoiceResponse()
    _speak(response, settings.fallback_message, settings)
    response.hangup()
    return str(response)


def final_notice(settings: "OrgSettings", warned: bool) -> tuple[str, str]:
    """T3: the final notice's words and its recording URL ("" = spoken with <Say>). After a warning the
    caller is told they were warned (`termination_message`); an immediate termination, where the caller
    heard no warning (T3's exception), has its own notice (`immediate_termination_message`)."""
    if warned:
        return settings.termination_message, settings.termination_recording_url
    return settings.immediate_termination_message, settings.immediate_termination_recording_url


def termination(settings: "OrgSettings", warned: bool) -> str:
    """T3: the final notice (see final_notice), then the call ends."""
    response = VoiceResponse()
    text, recording_url = final_notice(settings, warned)
    _speak(response, text, settings, recording_url)
    response.hangup()
    return str(response)


def callback_bridge(customer: str, caller_id: str, script: str, settings: "OrgSettings") -> str:
    """M1: played to the manager when they answer, then dials the customer from the organisation's number."""
    response = VoiceResponse()
    response.say(script, voice=settings.say_voice, language=settings.say_language)
    dial = Dial(caller_id=caller_id)
    dial.number(customer)
    response.append(dial)
    return str(response)


def handler_join(call_sid: str, whisper: str, settings: "OrgSettings") -> str:
    """14.10: the handler's own leg hears `whisper` (if any) and then joins the caller's conference; the
    conference ends when the handler hangs up, as for a leg added by the Participants API."""
    response = VoiceResponse()
    if whisper:
        _speak(response, whisper, settings)
    dial = Dial()
    dial.conference(conference_name(call_sid), start_conference_on_enter=True, end_conference_on_exit=True,
                    beep=False)
    response.append(dial)
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())
