"""The manager's callback (M1, M2) sends only REST requests Twilio accepts: checked by Stoplight
Prism against Twilio's OpenAPI spec (fixtures shared with tests/test_twilio_prism.py)."""
from sqlalchemy import select

from app.db import db_session
from app.simulator import signed_post
from call_flows.models import Call
from tests.callback_helpers import post, terminated_call
from tests.conftest import Staff
from tests.test_twilio_prism import _explain, _jobs, prism_app  # noqa: F401  (fixture)


def test_callback_dial_warn_and_terminate_are_requests_twilio_accepts(prism_app):  # noqa: F811
    app, http = prism_app, prism_app.extensions["twilio_http"]
    client = app.test_client()
    staff = Staff(app)
    manager = staff.add("manager", "line_manager", team="North", phone="+447700900001")
    handler = staff.add("handler", "call_handler", manager="manager", team="North")
    t = terminated_call(app, client, handler)
    tid = t["callback_task_id"]
    assert post(client, f"/callbacks/{tid}/claim", manager).status_code == 200
    assert post(client, f"/callbacks/{tid}/dial", manager).status_code == 202
    created = http.posts_to("/Calls.json")
    assert len(created) == 1 and 200 <= created[0]["status"] < 300, _explain(http)
    assert created[0]["data"]["To"] == "+447700900001" and created[0]["data"]["From"] == "+441632960000"
    with app.app_context():
        call_id = db_session().scalar(select(Call.id).where(Call.direction == "callback"))
    leg_sid = "CA" + "ab" * 16
    assert signed_post(app, client, f"/twilio/voice/callback/{call_id}/leg",
                       {"CallSid": leg_sid, "CallStatus": "in-progress"}).status_code == 204
    assert client.post(f"/api/v1/calls/{leg_sid}/warnings", headers=manager["headers"],
                       json={"reason": "abuse"}).status_code == 201
    ended = client.post(f"/api/v1/calls/{leg_sid}/termination", headers=manager["headers"],
                        json={"reason": "abuse", "case_reference": "PP-123"})
    assert ended.status_code == 201
    assert len(http.posts_to(f"/Calls/{leg_sid}.json")) == 2
    assert all(200 <= e["status"] < 300 for e in http.exchanges), _explain(http)
    jobs = _jobs(app)
    assert jobs["place_callback"].status == "done", jobs["place_callback"].last_error
