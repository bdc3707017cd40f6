"""Issue 12 item 7: Twilio's fallback URL. Twilio requests it (with ErrorCode and ErrorUrl) when it
could not fetch or run the primary URL's TwiML; the caller is connected, or told to ring back, and
never hears Twilio's application error (DOMAIN principles)."""
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from app.db import db_session
from app.simulator import new_call_sid, signed_post
from call_flows import settings as org_settings
from call_flows.models import Call
from tests.conftest import make_app

DEAD_DB = "postgresql+psycopg://postgres@127.0.0.1:1/none"
FAILED = {"ErrorCode": "11200", "ErrorUrl": "https://callguard.example.org/twilio/voice/inbound"}


def _fallback(app, client, sid, **extra):
    params = {"CallSid": sid, "From": "+447700900123", "To": "+441632960000", "CallStatus": "ringing",
              "Direction": "inbound", **FAILED, **extra}
    response = signed_post(app, client, "/twilio/voice/fallback", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return ElementTree.fromstring(response.data)


def _told_to_ring_back(root) -> bool:
    return ([child.tag for child in root] == ["Say", "Hangup"]
            and root[0].text == org_settings.DEFAULTS["fallback_message"])


def test_fallback_unsigned_is_refused_and_nothing_stored(app, client):
    response = client.post("/twilio/voice/fallback", data={"CallSid": new_call_sid(), **FAILED})
    assert response.status_code == 403
    with app.app_context():
        assert db_session().scalar(select(Call)) is None


@pytest.mark.real_commits  # the ring is recorded on its own connection while the request's session is open
def test_fallback_for_a_call_the_primary_never_recorded_records_and_connects_it(app, client):
    sid = new_call_sid()
    root = _fallback(app, client, sid)
    conference = root.find("./Dial/Conference")
    assert conference is not None and conference.text == f"cg-{sid}"
    assert conference.get("startConferenceOnEnter") == "false" and conference.get("waitUrl")  # hold music
    with app.app_context():
        call = db_session().scalar(select(Call).where(Call.call_sid == sid))
        assert call is not None and call.status == "ringing" and call.caller == "+447700900123"  # handlers see it


def test_fallback_mid_call_puts_the_caller_back_in_their_conference_without_a_new_greeting(app, client, ring):
    sid, _ = ring()
    root = _fallback(app, client, sid, CallStatus="in-progress")
    assert [child.tag for child in root] == ["Dial"]
    assert root.find("./Dial/Conference").text == f"cg-{sid}"
    with app.app_context():
        assert len(db_session().scalars(select(Call)).all()) == 1  # nothing recorded twice


def test_t3_fallback_on_a_terminated_call_plays_the_final_notice_and_ends_it(app, client, ring, team):
    sid, _ = ring()
    headers = team["handler"]["headers"]
    client.post(f"/api/v1/calls/{sid}/accept", headers=headers)
    client.post(f"/api/v1/calls/{sid}/termination", headers=headers,
                json={"reason": "threats", "immediate_reason": "threat_of_violence"})
    root = _fallback(app, client, sid, CallStatus="in-progress")
    assert [child.tag for child in root] == ["Say", "Hangup"]
    # T3's exception: no warning was heard, so the immediate notice, never "you were warned" (9.2)
    assert root[0].text == org_settings.DEFAULTS["immediate_termination_message"]


def test_fallback_on_an_ended_call_or_an_unknown_outbound_leg_tells_the_caller_to_ring_back(app, client, ring):
    sid, _ = ring()
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "completed"})
    assert _told_to_ring_back(_fallback(app, client, sid))
    assert _told_to_ring_back(_fallback(app, client, new_call_sid(), Direction="outbound-api"))


def test_fallback_with_the_database_down_tells_the_caller_to_ring_back(database_url, caplog):
    broken = make_app(DEAD_DB)
    try:
        assert _told_to_ring_back(_fallback(broken, broken.test_client(), new_call_sid()))
        assert "fallback for call" in caplog.text
    finally:
        broken.extensions["engine"].dispose()
