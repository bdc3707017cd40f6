"""TwiML for the manager's callback (M1, M2), built with VoiceResponse only."""
from twilio.twiml.voice_response import Dial, VoiceResponse

from call_flows.calls.twiml import conference_name
from call_flows.settings import OrgSettings


def bridge(customer: str, caller_id: str, prompt: str, settings: OrgSettings, leg_events_url: str, after_url: str) -> str:
    """Played on the manager's leg when they answer: a short prompt, then the customer is dialled
    from the organisation's number. The customer's leg reports to `leg_events_url` (so a warning or
    the final notice can be played to the customer alone); `after_url` decides what the manager's
    leg does when that leg leaves the bridge."""
    response = VoiceResponse()
    response.say(prompt, voice=settings.say_voice, language=settings.say_language)
    dial = Dial(caller_id=caller_id, action=after_url, method="POST")
    dial.number(customer, status_callback=leg_events_url, status_callback_event="initiated answered completed",
                status_callback_method="POST")
    response.append(dial)
    return str(response)


def after_bridge(customer_call_sid: str | None, rejoin: bool) -> str:
    """M2: when a warning took the customer out of the bridge, the manager waits in the customer's
    conference (the warning TwiML puts the customer back there); otherwise the manager's leg ends."""
    response = VoiceResponse()
    if rejoin and customer_call_sid:
        dial = Dial()
        dial.conference(conference_name(customer_call_sid), start_conference_on_enter=True,
                        end_conference_on_exit=True, beep=False)
        response.append(dial)
    else:
        response.hangup()
    return str(response)
