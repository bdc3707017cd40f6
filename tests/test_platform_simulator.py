"""The call platform behind one Protocol (issue 11 item 2). The simulated platform emulates Twilio's
status callbacks for the legs it dials (initiated, answered, completed: what the callback's TwiML
subscribes to, in Twilio's order) through the same code path as Twilio's webhooks, so the domain has
no simulator branch; a callback call is known by its direction and carries the CallSid the platform
reports for the customer's leg (never the manager's, never one the domain makes up to look like Twilio's)."""
import re
from xml.etree import ElementTree

from sqlalchemy import select

from app.db import db_session
from app.simulator import signed_post
from call_flows.models import Call, PlatformAction, WebhookReceipt
from call_flows.platform.protocol import CallPlatform
from call_flows.platform.simulated import SimulatedPlatform
from call_flows.platform.twilio_rest import TwilioPlatform
from tests.callback_helpers import post, terminated_call
from tests.conftest import Staff

TWILIO_SID = re.compile(r"^CA[0-9a-f]{32}$")


def _dial(app, client, manager, handler):
    t = terminated_call(app, client, handler)
    assert post(client, f"/callbacks/{t['callback_task_id']}/claim", manager).status_code == 200
    dialled = post(client, f"/callbacks/{t['callback_task_id']}/dial", manager)
    assert dialled.status_code == 202, dialled.get_json()
    return dialled.get_json()["call_sid"]


def _receipts(app, sid):
    with app.app_context():
        return sorted(k for k in db_session().scalars(select(WebhookReceipt.key)) if sid in k)


def test_both_platforms_offer_every_operation_of_the_protocol():
    wanted = {name for name in dir(CallPlatform) if not name.startswith("_")}
    assert {"url", "redirect_call", "call_status", "add_participant", "place_call"} <= wanted
    for implementation in (SimulatedPlatform, TwilioPlatform):
        assert all(callable(getattr(implementation, name)) for name in wanted - {"caller_id"})


def test_simulated_callback_leg_reports_initiated_then_answered_through_the_status_path(app, client, team):
    leg = _dial(app, client, team["manager"], team["handler"])
    assert TWILIO_SID.match(leg)  # a CallSid shaped as Twilio's, not a made-up prefix
    with app.app_context():
        s = db_session()
        call = s.scalar(select(Call).where(Call.call_sid == leg))
        assert call.direction == "callback" and call.status == "in-progress" and call.answered_at is not None
        (placed,) = s.scalars(select(PlatformAction).where(PlatformAction.action == "place_call"))
        (dialled,) = s.scalars(select(PlatformAction).where(PlatformAction.action == "dial"))
        assert TWILIO_SID.match(placed.call_sid) and placed.call_sid != leg  # the manager's leg is another call
        assert dialled.call_sid == leg and dialled.payload["parent"] == placed.call_sid
        assert dialled.payload["to"] == "+447700900123"
        assert dialled.payload["events"] == ["initiated", "answered", "completed"]  # as the TwiML subscribed
        number = ElementTree.fromstring(placed.payload["twiml"]).find("Dial/Number")
        assert dialled.payload["status_callback"] == number.get("statusCallback")
    # the same receipts Twilio's webhooks leave (call_flows.calls.status), in Twilio's order
    assert _receipts(app, leg) == [f"status:{leg}:in-progress:1", f"status:{leg}:initiated:0"]


def test_simulated_final_notice_hangs_the_leg_up_and_it_reports_completed(app, client, team):
    leg = _dial(app, client, team["manager"], team["handler"])
    ended = client.post(f"/api/v1/calls/{leg}/termination", headers=team["manager"]["headers"],
                        json={"reason": "abuse", "immediate_reason": "threat_of_violence"})
    assert ended.status_code == 201, ended.get_json()
    with app.app_context():
        s = db_session()
        call = s.scalar(select(Call).where(Call.call_sid == leg))
        assert call.status == "completed" and call.ended_at is not None
        (notice,) = s.scalars(select(PlatformAction.payload).where(PlatformAction.call_sid == leg,
                                                                   PlatformAction.action == "redirect"))
        assert ElementTree.fromstring(notice["twiml"])[-1].tag == "Hangup"
    assert f"status:{leg}:completed:2" in _receipts(app, leg)


def test_twilio_callback_takes_the_customer_legs_callsid_never_the_managers(twilio_app, twilio_http):
    client = twilio_app.test_client()
    staff = Staff(twilio_app)
    manager = staff.add("manager", "line_manager", team="T", phone="+447700900001")
    handler = staff.add("handler", "call_handler", manager="manager", team="T")
    placed = _dial(twilio_app, client, manager, handler)
    assert len(twilio_http.posts_to("/Calls.json")) == 1
    with twilio_app.app_context():
        call = db_session().scalar(select(Call).where(Call.direction == "callback"))
        call_id, status, sid = call.id, call.status, call.call_sid
    assert status == "initiated" and sid == placed and not TWILIO_SID.match(placed)  # no leg has reported yet
    before = len(twilio_http.requests)
    early = client.post(f"/api/v1/calls/{placed}/warnings", headers=manager["headers"], json={"reason": "abuse"})
    assert early.status_code == 201
    updates = [r["url"] for r in twilio_http.requests[before:] if re.search(r"/Calls/[^/]+\.json$", r["url"])]
    assert updates and all(placed in url for url in updates)  # never the manager's leg (Twilio's own CallSid)
    leg, other = "CA" + "d" * 32, "CA" + "e" * 32
    for sid, event, sequence in ((leg, "initiated", "0"), (leg, "in-progress", "1"), (other, "in-progress", "0")):
        assert signed_post(twilio_app, client, f"/twilio/voice/callback/{call_id}/leg",
                           {"CallSid": sid, "CallStatus": event, "SequenceNumber": sequence}).status_code == 204
    with twilio_app.app_context():
        call = db_session().get(Call, call_id)
        assert (call.call_sid, call.status) == (leg, "in-progress")  # another leg, once answered, is not ours
