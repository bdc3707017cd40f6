"""With Twilio credentials, warn and terminate reach Twilio's REST API through the real library."""
from tests import twiml
from tests.twilio_standin import form


def test_warn_and_terminate_send_call_updates_to_twilio(twilio_app, twilio_http):
    from app.simulator import new_call_sid, signed_post

    client = twilio_app.test_client()
    from tests.conftest import Staff

    staff = Staff(twilio_app)
    staff.add("manager", "line_manager", team="T")
    handler = staff.add("handler", "call_handler", manager="manager", team="T", phone="+447700900002")
    sid = new_call_sid()
    assert signed_post(twilio_app, client, "/twilio/voice/inbound",
                       {"CallSid": sid, "From": "+447700900123", "To": "+441632960000"}).status_code == 200
    client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"])
    participants = twilio_http.posts_to("/Participants.json")
    assert len(participants) == 1 and f"/Conferences/cg-{sid}/" in participants[0]["url"]
    assert form(participants[0])["To"] == "+447700900002"
    client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json={"reason": "abuse"})
    updates = twilio_http.posts_to(f"/Calls/{sid}.json")
    assert len(updates) == 2
    assert twiml.has(form(updates[0])["Twiml"], "Say") and twiml.has(form(updates[0])["Twiml"], "Conference")
    assert twiml.has(form(updates[1])["Twiml"], "Hangup")
    assert updates[0]["url"].startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
