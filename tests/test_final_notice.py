"""Issue 9, item 2: the final notice says what is true (T3). After a warning the caller heard, they are
told they were warned; an immediate termination (T3's exception, no warning) has its own configurable
notice (`immediate_termination_message`, or `immediate_termination_recording_url` played instead).
The console previews exactly the notice that will be played."""
from xml.etree import ElementTree

from sqlalchemy import select

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.models import PlatformAction
from tests.page_helpers import sign_in

WARNED = org_settings.DEFAULTS["termination_message"]
IMMEDIATE = org_settings.DEFAULTS["immediate_termination_message"]


def _accepted(client, ring, handler):
    sid, _ = ring()
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    return sid


def _final_twiml(app, sid):
    with app.app_context():
        actions = db_session().scalars(select(PlatformAction).where(PlatformAction.call_sid == sid)
                                       .order_by(PlatformAction.id)).all()
    root = ElementTree.fromstring(actions[-1].payload["twiml"])
    assert root[-1].tag == "Hangup"
    return root


def _console_notice(client, sid):
    state = client.get("/console/state").get_json()
    assert state["call"]["call_sid"] == sid
    return state["call"]["final_notice"], state["call"]["note"]["told_customer"]


def test_t3_immediate_termination_plays_its_own_notice_not_you_were_warned(app, client, ring, team):
    sign_in(app, client, "handler")
    sid = _accepted(client, ring, team["handler"])
    preview, told = _console_notice(client, sid)
    assert preview == {"text": IMMEDIATE, "recording": False} and IMMEDIATE in told
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                        json={"reason": "threats", "immediate_reason": "threat_of_violence"})
    assert ended.status_code == 201
    spoken = _final_twiml(app, sid).find("Say").text
    assert spoken == IMMEDIATE and "warned" not in spoken


def test_t3_after_a_warning_the_final_notice_says_the_caller_was_warned(app, client, ring, team):
    sign_in(app, client, "handler")
    sid = _accepted(client, ring, team["handler"])
    assert client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"],
                       json={"reason": "abuse"}).status_code == 201
    preview, _ = _console_notice(client, sid)
    assert preview == {"text": WARNED, "recording": False}
    # an immediate reason on a call already warned: the caller was warned, so they are told so
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                        json={"reason": "threats", "immediate_reason": "threat_of_violence"})
    assert ended.status_code == 201
    assert _final_twiml(app, sid).find("Say").text == WARNED


def test_t3_configured_immediate_notice_and_recording_are_used_and_previewed(app, client, ring, team):
    with app.app_context():
        session = db_session()
        org_settings.save(session, "immediate_termination_message", "This call is ending now.")
        org_settings.save(session, "immediate_termination_recording_url", "https://example.org/ending.mp3")
        session.commit()
    sign_in(app, client, "handler")
    sid = _accepted(client, ring, team["handler"])
    preview, _ = _console_notice(client, sid)
    assert preview == {"text": "This call is ending now.", "recording": True}
    page = client.get("/console").get_data(as_text=True)
    assert 'id="end-notice"' in page
    client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"],
                json={"reason": "other", "immediate_reason": "other_serious", "immediate_detail": "bomb threat"})
    root = _final_twiml(app, sid)
    assert root.find("Play").text == "https://example.org/ending.mp3" and root.find("Say") is None
