"""Issue 9.7: a caller waiting for a handler hears the organisation's hold music, not silence.

Twilio's <Conference> semantics (docs: TwiML Voice <Conference>, startConferenceOnEnter and waitUrl):
a participant with startConferenceOnEnter="false" who finds the conference not started hears the
waitUrl until one with startConferenceOnEnter="true" joins; waitUrl="" would be silence."""
from xml.etree import ElementTree

import pytest

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.errors import InvalidInput
from call_flows.calls.twiml import TWILIO_DEFAULT_HOLD_MUSIC
from tests.conftest import Staff
from tests.twilio_standin import form


def _caller_conference(twiml: bytes | str):
    conference = ElementTree.fromstring(twiml).find("./Dial/Conference")
    assert conference is not None
    return conference


def _set(app, key, value):
    with app.app_context():
        org_settings.save(db_session(), key, value)
        db_session().commit()


def test_waiting_caller_hears_twilio_default_hold_music_until_a_handler_starts_the_conference(ring):
    sid, response = ring()
    conference = _caller_conference(response.data)
    assert conference.text == f"cg-{sid}"
    assert conference.get("startConferenceOnEnter") == "false"  # the caller alone does not start it
    assert conference.get("waitUrl") == TWILIO_DEFAULT_HOLD_MUSIC
    assert conference.get("waitMethod") == "GET"
    assert conference.get("endConferenceOnExit") == "false"


def test_waiting_caller_hears_the_organisations_hold_music(app, ring):
    _set(app, "hold_music_url", "https://media.example.org/hold/please-hold.mp3")
    _, response = ring()
    assert _caller_conference(response.data).get("waitUrl") == "https://media.example.org/hold/please-hold.mp3"


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_hold_music_setting_falls_back_to_twilio_default_never_silence(app, ring, blank):
    _set(app, "hold_music_url", blank)
    _, response = ring()
    assert _caller_conference(response.data).get("waitUrl") == TWILIO_DEFAULT_HOLD_MUSIC


@pytest.mark.parametrize("bad", ["hold.mp3", "ftp://media.example.org/a.mp3", "javascript:alert(1)",
                                 "https:///nohost.mp3", "https://media.example.org/a b.mp3"])
def test_hold_music_setting_refuses_what_twilio_cannot_fetch(app, bad):
    with app.app_context():
        with pytest.raises(InvalidInput):
            org_settings.save(db_session(), "hold_music_url", bad)


def test_bad_hold_music_stored_by_other_means_still_plays_twilio_default(app, ring):
    with app.app_context():
        from call_flows.models import Setting

        db_session().add(Setting(key="hold_music_url", value='"not a url"'))
        db_session().commit()
        org_settings.invalidate()
    _, response = ring()
    assert _caller_conference(response.data).get("waitUrl") == TWILIO_DEFAULT_HOLD_MUSIC


def test_t1_warned_caller_rejoins_the_conference_the_handler_keeps_started(twilio_app, twilio_http):
    """The handler's leg starts the conference (and ends it on leaving); the warned caller rejoins
    without starting it, so with the handler there they are straight back with them, no hold music."""
    from app.simulator import new_call_sid, signed_post

    client = twilio_app.test_client()
    staff = Staff(twilio_app)
    staff.add("manager", "line_manager", team="T")
    handler = staff.add("handler", "call_handler", manager="manager", team="T", phone="+447700900002")
    sid = new_call_sid()
    signed_post(twilio_app, client, "/twilio/voice/inbound", {"CallSid": sid, "From": "+447700900123"})
    client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"])
    handler_leg = form(twilio_http.posts_to("/Participants.json")[0])
    assert handler_leg["StartConferenceOnEnter"] == "true" and handler_leg["EndConferenceOnExit"] == "true"

    client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    twiml = form(twilio_http.posts_to(f"/Calls/{sid}.json")[0])["Twiml"]
    root = ElementTree.fromstring(twiml)
    assert root[0].tag == "Say" and "behaviour improves" in root[0].text  # the warning first
    conference = _caller_conference(twiml)
    assert conference.text == f"cg-{sid}"  # the same conference, so the handler is still there
    assert conference.get("startConferenceOnEnter") == "false"
    assert conference.get("endConferenceOnExit") == "false"  # leaving for a warning never ends it
    assert conference.get("waitUrl") == TWILIO_DEFAULT_HOLD_MUSIC  # only heard if no handler is there yet
