"""14.10: a handler answering on their own phone hears a short whisper about a flagged caller (R1
marker, R10 signals, C3 restriction) before the caller is connected; the caller never hears it."""
import xml.etree.ElementTree as ET

import pytest

from app.db import db_session
from app.simulator import new_call_sid, signed_post
from call_flows import settings as org_settings
from tests.conftest import Staff
from tests.page_helpers import add_marker
from tests.twilio_standin import form

BASE = "https://callguard.example.org"


@pytest.fixture
def handler(twilio_app):
    staff = Staff(twilio_app)
    staff.add("manager", "line_manager", team="T")
    return staff.add("handler", "call_handler", manager="manager", team="T", phone="+447700900002")


def ring_and_accept(app, handler, caller):
    client = app.test_client()
    sid = new_call_sid()
    rang = signed_post(app, client, "/twilio/voice/inbound", {"CallSid": sid, "From": caller, "To": "+441632960000"})
    assert rang.status_code == 200
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    return sid, rang


def answer(app, path):
    """Twilio fetching the handler leg's answer URL, signed as Twilio signs it."""
    response = signed_post(app, app.test_client(), path, {"CallSid": new_call_sid(), "CallStatus": "in-progress"})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def set_setting(app, key, value):
    with app.app_context():
        org_settings.save(db_session(), key, value)
        db_session().commit()


def test_flagged_caller_handler_hears_whisper_then_joins_the_conference(twilio_app, twilio_http, handler):
    add_marker(twilio_app, "+447700900555", marker=2)
    sid, rang = ring_and_accept(twilio_app, handler, "+447700900555")
    assert not twilio_http.posts_to("/Participants.json")
    (leg,) = twilio_http.posts_to("/Calls.json")
    fields = form(leg)
    assert fields["To"] == "+447700900002" and fields["From"] == "+441632960000" and "Twiml" not in fields
    assert fields["Url"] == f"{BASE}/twilio/voice/whisper/{sid}"

    verbs = list(answer(twilio_app, f"/twilio/voice/whisper/{sid}"))
    assert [v.tag for v in verbs] == ["Say", "Dial"]  # the whisper first, then the caller
    assert verbs[0].text == "Flagged caller, marker 2, see your screen."
    (conference,) = list(verbs[1])
    assert conference.tag == "Conference" and conference.text == f"cg-{sid}"
    assert conference.get("endConferenceOnExit") == "true" and conference.get("beep") == "false"


def test_caller_never_hears_the_whisper(twilio_app, twilio_http, handler):
    add_marker(twilio_app, "+447700900555", marker=2)
    sid, rang = ring_and_accept(twilio_app, handler, "+447700900555")
    assert b"see your screen" not in rang.data  # the caller's own TwiML
    assert not twilio_http.posts_to(f"/Calls/{sid}.json")  # and nothing redirected the caller's leg


def test_unflagged_caller_is_connected_without_a_whisper_by_default(twilio_app, twilio_http, handler):
    sid, _ = ring_and_accept(twilio_app, handler, "+447700900111")
    assert not twilio_http.posts_to("/Calls.json")
    (participant,) = twilio_http.posts_to("/Participants.json")
    assert f"/Conferences/cg-{sid}/" in participant["url"]
    assert [v.tag for v in answer(twilio_app, f"/twilio/voice/whisper/{sid}")] == ["Dial"]


def test_whisper_wording_is_an_organisation_setting(twilio_app, twilio_http, handler):
    set_setting(twilio_app, "handler_whisper_flagged", "Careful: {flags}.")
    set_setting(twilio_app, "handler_whisper_unflagged", "New caller.")
    add_marker(twilio_app, "+447700900555", marker=1)
    flagged, _ = ring_and_accept(twilio_app, handler, "+447700900555")
    quiet, _ = ring_and_accept(twilio_app, handler, "+447700900111")
    assert len(twilio_http.posts_to("/Calls.json")) == 2
    assert answer(twilio_app, f"/twilio/voice/whisper/{flagged}").find("Say").text == "Careful: marker 1."
    assert answer(twilio_app, f"/twilio/voice/whisper/{quiet}").find("Say").text == "New caller."


def test_c3_restricted_caller_whisper_names_the_restriction(twilio_app, handler):
    from call_flows.calls import whisper

    flags = {"flagged": True, "marker": None, "restricted": True, "signals": ["repeat_warnings"]}
    text = whisper.whisper_text(flags, org_settings.OrgSettings())
    assert text == "Flagged caller, contact restriction, repeat warnings, see your screen."


def test_stored_whisper_wording_is_not_a_format_string():
    from call_flows.calls import whisper

    settings = org_settings.OrgSettings(handler_whisper_flagged="{flags} {flags.__class__} {0} {marker}")
    assert whisper.whisper_text({"flagged": True, "marker": 3}, settings) == "marker 3 {flags.__class__} {0} {marker}"


def test_whisper_route_is_signed_and_answers_with_or_without_trailing_slash(twilio_app, handler):
    add_marker(twilio_app, "+447700900555", marker=2)
    sid, _ = ring_and_accept(twilio_app, handler, "+447700900555")
    client = twilio_app.test_client()
    assert client.post(f"/twilio/voice/whisper/{sid}", data={"CallSid": "CA1"}).status_code == 403
    assert client.post(f"/twilio/voice/whisper/{sid}", data={"CallSid": "CA1"},
                       headers={"X-Twilio-Signature": "forged"}).status_code == 403
    assert answer(twilio_app, f"/twilio/voice/whisper/{sid}/").find("Say") is not None


def test_whisper_for_a_call_that_is_over_hangs_up_the_handler_leg(twilio_app, handler):
    add_marker(twilio_app, "+447700900555", marker=2)
    sid, _ = ring_and_accept(twilio_app, handler, "+447700900555")
    ended = signed_post(twilio_app, twilio_app.test_client(), "/twilio/voice/status",
                        {"CallSid": sid, "CallStatus": "completed", "CallDuration": "30"})
    assert ended.status_code == 204
    assert [v.tag for v in answer(twilio_app, f"/twilio/voice/whisper/{sid}")] == ["Hangup"]
    assert [v.tag for v in answer(twilio_app, f"/twilio/voice/whisper/{new_call_sid()}")] == ["Hangup"]


def test_simulated_platform_records_the_whisper_leg(app, ring, team):
    from call_flows.models import PlatformAction

    add_marker(app, "+447700900555", marker=2)
    sid, _ = ring("+447700900555")
    assert app.test_client().post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"]).status_code == 200
    with app.app_context():
        (action,) = db_session().query(PlatformAction).filter_by(action="place_call").all()
    assert action.payload["url"].endswith(f"/twilio/voice/whisper/{sid}") and action.payload["to"] == "+447700900002"


def test_database_down_at_whisper_still_connects_the_handler(database_url):
    from tests.conftest import make_app

    broken = make_app("postgresql+psycopg://postgres@127.0.0.1:1/none")
    sid = new_call_sid()
    verbs = list(answer(broken, f"/twilio/voice/whisper/{sid}"))
    assert [v.tag for v in verbs] == ["Dial"] and verbs[0].find("Conference").text == f"cg-{sid}"
