"""The line manager's callback queue (T5, M1, M2): order, claims, dial, outcomes, roles."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.callbacks.work import claim
from call_flows.clock import utcnow
from call_flows.errors import AlreadyClaimed
from call_flows.models import Call, CallbackTask, PlatformAction, User
from tests import twiml
from tests.callback_helpers import post, terminated_call
from tests.page_helpers import sign_in
from tests.twilio_standin import form


def _task(app, task_id):
    with app.app_context():
        return db_session().get(CallbackTask, task_id)


def test_m1_queue_shows_the_task_and_a_claim_is_seen_by_others(app, client, staff, team):
    other = staff.add("manager2", "line_manager", team="Passports North")
    t = terminated_call(app, client, team["handler"])
    queue = client.get("/api/v1/callbacks", headers=other["headers"]).get_json()["callbacks"]
    assert [c["id"] for c in queue] == [t["callback_task_id"]] and queue[0]["status"] == "open"
    claimed = post(client, f"/callbacks/{t['callback_task_id']}/claim", team["manager"])
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by_id"] == team["manager"]["id"]
    seen = client.get("/api/v1/callbacks", headers=other["headers"]).get_json()["callbacks"][0]
    assert seen["status"] == "claimed" and seen["claimed_by_id"] == team["manager"]["id"]
    refused = post(client, f"/callbacks/{t['callback_task_id']}/claim", other)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "already_claimed"
    again = post(client, f"/callbacks/{t['callback_task_id']}/claim", team["manager"])
    assert again.status_code == 200  # the holder claiming again changes nothing


def test_queue_order_overdue_then_serious_then_due_time_and_release_keeps_the_place(app, client, team):
    first = terminated_call(app, client, team["handler"], case_reference="A-1")
    second = terminated_call(app, client, team["handler"], case_reference="B-2", immediate="threat_of_violence")
    third = terminated_call(app, client, team["handler"], case_reference="C-3")
    with app.app_context():
        s = db_session()
        s.get(CallbackTask, third["callback_task_id"]).due_at = utcnow() - timedelta(minutes=1)  # overdue
        s.commit()
    order = lambda: [c["case_reference"] for c in  # noqa: E731
                     client.get("/api/v1/callbacks", headers=team["manager"]["headers"]).get_json()["callbacks"]]
    assert order() == ["C-3", "B-2", "A-1"]
    assert post(client, f"/callbacks/{first['callback_task_id']}/claim", team["manager"]).status_code == 200
    assert post(client, f"/callbacks/{first['callback_task_id']}/release", team["manager"]).status_code == 200
    assert order() == ["C-3", "B-2", "A-1"]  # released: same place, ordered by when the need arose
    assert second["incident_id"]


def test_claim_left_idle_expires_and_the_task_returns_to_the_queue(app, client, staff, team):
    other = staff.add("manager2", "line_manager", team="Passports North")
    t = terminated_call(app, client, team["handler"])
    post(client, f"/callbacks/{t['callback_task_id']}/claim", team["manager"])
    with app.app_context():
        s = db_session()
        s.get(CallbackTask, t["callback_task_id"]).claim_active_at = utcnow() - timedelta(minutes=31)
        s.commit()
    taken = post(client, f"/callbacks/{t['callback_task_id']}/claim", other)
    assert taken.status_code == 200 and taken.get_json()["claimed_by_id"] == other["id"]


@pytest.mark.real_commits  # two threads, each with its own connection
def test_concurrent_claims_exactly_one_wins(app, client, staff, team):
    """Two managers claim at once, each in their own session and thread: one row changes, one wins."""
    other = staff.add("manager2", "line_manager", team="Passports North")
    t = terminated_call(app, client, team["handler"])
    barrier = threading.Barrier(2)
    results = {}

    def attempt(user_id):
        session = app.extensions["sessionmaker"]()
        try:
            user = session.get(User, user_id)
            session.get(CallbackTask, t["callback_task_id"])  # both read the open task first
            barrier.wait(5)
            claim(session, t["callback_task_id"], user, utcnow(), 30)
            session.commit()
            results[user_id] = "won"
        except AlreadyClaimed:
            session.rollback()
            results[user_id] = "already_claimed"
        finally:
            session.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in (team["manager"]["id"], other["id"])]
    for th in threads:
        th.start()
    for th in threads:
        th.join(20)
    assert sorted(results.values()) == ["already_claimed", "won"]
    winner = next(u for u, r in results.items() if r == "won")
    assert _task(app, t["callback_task_id"]).claimed_by_id == winner


def test_roles_a_handler_cannot_act_on_the_queue(app, client, team):
    t = terminated_call(app, client, team["handler"])
    for path in ("claim", "dial", "release"):
        response = post(client, f"/callbacks/{t['callback_task_id']}/{path}", team["handler"])
        assert response.status_code == 403, path
    response = post(client, f"/callbacks/{t['callback_task_id']}/outcome", team["handler"], {"outcome": "no_answer"})
    assert response.status_code == 403
    assert client.get("/api/v1/callbacks", headers=team["handler"]["headers"]).status_code == 403


def test_roles_a_manager_sees_and_claims_only_their_teams_tasks(app, client, staff, team):
    outsider = staff.add("manager_south", "line_manager", team="Passports South")
    t = terminated_call(app, client, team["handler"])
    assert client.get("/api/v1/callbacks", headers=outsider["headers"]).get_json()["callbacks"] == []
    response = post(client, f"/callbacks/{t['callback_task_id']}/claim", outsider)
    assert response.status_code == 404
    assert post(client, f"/callbacks/{t['callback_task_id']}/cancel", outsider, {"reason": "x"}).status_code == 404


def test_m1_dial_places_one_call_from_the_organisations_number_and_records_a_callback_call(app, client, team):
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    refused = post(client, f"/callbacks/{tid}/dial", team["manager"])
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_claimant"
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    dialled = post(client, f"/callbacks/{tid}/dial", team["manager"])
    assert dialled.status_code == 202, dialled.get_json()
    body = dialled.get_json()
    assert "line manager" in body["script"] and "ended because of the behaviour" in body["script"]
    assert post(client, f"/callbacks/{tid}/dial", team["manager"]).get_json()["call_sid"] == body["call_sid"]
    with app.app_context():
        s = db_session()
        placed = list(s.scalars(select(PlatformAction).where(PlatformAction.action == "place_call")))
        call = s.scalar(select(Call).where(Call.call_sid == body["call_sid"]))
        assert call.direction == "callback" and call.handler_id == team["manager"]["id"]
    assert len(placed) == 1  # pressing dial twice placed one call
    assert placed[0].payload["to"] == "+447700900001"  # the manager's own phone first
    assert placed[0].payload["from"] == "+441632960000"  # the number the customer called
    assert "<Number" in placed[0].payload["twiml"] and "+447700900123" in placed[0].payload["twiml"]
    # M2: the manager has the handler's warn and terminate controls on the callback call
    warned = client.post(f"/api/v1/calls/{body['call_sid']}/warnings", headers=team["manager"]["headers"],
                         json={"reason": "abuse"})
    assert warned.status_code == 201


def test_m1_dial_through_twilio_rest_and_the_customer_leg_is_recorded(twilio_app, twilio_http):
    from app.simulator import signed_post
    from tests.conftest import Staff

    client = twilio_app.test_client()
    staff = Staff(twilio_app)
    manager = staff.add("manager", "line_manager", team="T", phone="+447700900001")
    handler = staff.add("handler", "call_handler", manager="manager", team="T")
    t = terminated_call(twilio_app, client, handler)
    post(client, f"/callbacks/{t['callback_task_id']}/claim", manager)
    assert post(client, f"/callbacks/{t['callback_task_id']}/dial", manager).status_code == 202
    created = twilio_http.posts_to("/Calls.json")
    assert len(created) == 1
    sent = form(created[0])
    assert sent["To"] == "+447700900001" and sent["From"] == "+441632960000"
    assert "<Dial" in sent["Twiml"] and "callback" in sent["Twiml"]
    with twilio_app.app_context():
        call = db_session().scalar(select(Call).where(Call.direction == "callback"))
        call_id = call.id
    leg = signed_post(twilio_app, client, f"/twilio/voice/callback/{call_id}/leg",
                      {"CallSid": "CA" + "c" * 32, "CallStatus": "in-progress"})
    assert leg.status_code == 204
    before = signed_post(twilio_app, client, f"/twilio/voice/callback/{call_id}/after", {"CallSid": "CAparent"})
    assert twiml.has(before.data, "Hangup")  # an ordinary end of the bridge ends the manager's leg
    warned = client.post(f"/api/v1/calls/{'CA' + 'c' * 32}/warnings", headers=manager["headers"],
                         json={"reason": "abuse"})
    assert warned.status_code == 201
    assert twilio_http.posts_to(f"/Calls/{'CA' + 'c' * 32}.json")  # the customer's leg alone hears it
    after = signed_post(twilio_app, client, f"/twilio/voice/callback/{call_id}/after", {"CallSid": "CAparent"})
    assert twiml.has(after.data, "Conference")  # the manager waits in the customer's conference


@pytest.mark.parametrize("outcome,note,status", [
    ("resolved", {"spoke_to": "Mr Smith", "told_customer": "renewal sent"}, "closed"),
    ("behaviour_not_improved", {"customer_said_or_did": "swore again"}, "closed"),
    ("no_answer", None, "open"),
])
def test_m1_m2_outcome_writes_the_case_note(app, client, team, outcome, note, status):
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    post(client, f"/callbacks/{tid}/dial", team["manager"])
    recorded = post(client, f"/callbacks/{tid}/outcome", team["manager"],
                    {"outcome": outcome, **({"note": note} if note else {})})
    assert recorded.status_code == 200, recorded.get_json()
    assert recorded.get_json()["status"] == status and recorded.get_json()["attempts"] == 1
    notes = client.get("/api/v1/cases/PP-123/notes", headers=team["manager"]["headers"]).get_json()["notes"]
    assert [n["kind"] for n in notes] == ["termination", "callback"]
    assert notes[1]["known"]["outcome"] == outcome and notes[1]["fields"] == (note or {})


def test_m2_behaviour_not_improved_needs_what_the_customer_said(app, client, team):
    t = terminated_call(app, client, team["handler"])
    post(client, f"/callbacks/{t['callback_task_id']}/claim", team["manager"])
    response = post(client, f"/callbacks/{t['callback_task_id']}/outcome", team["manager"],
                    {"outcome": "behaviour_not_improved", "note": {"query": "renewal"}})
    assert response.status_code == 400 and "M2" in response.get_json()["error"]["message"]
    bad = post(client, f"/callbacks/{t['callback_task_id']}/outcome", team["manager"], {"outcome": "shrug"})
    assert bad.status_code == 400


def test_no_answer_retries_then_closes_as_unreachable(app, client, team):
    with app.app_context():
        org_settings.save(db_session(), "callback_max_attempts", 2)
        db_session().commit()
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    assert post(client, f"/callbacks/{tid}/dial", team["manager"]).status_code == 202
    first = post(client, f"/callbacks/{tid}/outcome", team["manager"], {"outcome": "no_answer"}).get_json()
    assert first["status"] == "open" and first["retry_at"] and first["claimed_by_id"] is None
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    early = post(client, f"/callbacks/{tid}/dial", team["manager"])
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "retry_not_due"
    with app.app_context():  # the retry comes due
        db_session().get(CallbackTask, tid).retry_at = utcnow() - timedelta(minutes=1)
        db_session().commit()
    assert post(client, f"/callbacks/{tid}/dial", team["manager"]).status_code == 202
    second = post(client, f"/callbacks/{tid}/outcome", team["manager"], {"outcome": "no_answer"}).get_json()
    assert second["status"] == "closed" and second["outcome"] == "unreachable" and second["attempts"] == 2
    assert client.get("/api/v1/callbacks", headers=team["manager"]["headers"]).get_json()["callbacks"] == []


def test_14_8_no_answer_without_a_dial_attempt_is_refused_on_the_api_and_the_page(app, client, team):
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    refused = post(client, f"/callbacks/{tid}/outcome", team["manager"], {"outcome": "no_answer"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_dial_attempt"
    assert "Call back first" in refused.get_json()["error"]["message"]
    task = _task(app, tid)
    assert (task.attempts, task.status, task.retry_at) == (0, "claimed", None)  # nothing counted or stored
    sign_in(app, client, "manager")
    page = client.post(f"/callbacks/{tid}/outcome", data={"outcome": "no_answer"})
    assert page.status_code == 409 and "Call back first" in page.get_data(as_text=True)
    assert _task(app, tid).attempts == 0


def test_cancel_needs_a_reason_and_keeps_the_incident(app, client, team):
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    assert post(client, f"/callbacks/{tid}/cancel", team["manager"], {}).status_code == 400
    cancelled = post(client, f"/callbacks/{tid}/cancel", team["manager"], {"reason": "customer wrote in instead"})
    assert cancelled.status_code == 200 and cancelled.get_json()["cancel_reason"] == "customer wrote in instead"
    incident = client.get(f"/api/v1/incidents/{t['incident_id']}", headers=team["manager"]["headers"])
    assert incident.status_code == 200 and incident.get_json()["status"] == "open"


def test_deputy_sees_the_absent_managers_queue_and_admin_reassigns(app, client, staff, team):
    deputy = staff.add("deputy", "line_manager", team="Passports South")
    admin = staff.add("admin", "admin")
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    assert client.get("/api/v1/callbacks", headers=deputy["headers"]).get_json()["callbacks"] == []
    handed = client.put("/api/v1/callbacks/deputy", headers=team["manager"]["headers"], json={"deputy": "deputy"})
    assert handed.status_code == 200
    assert [c["id"] for c in client.get("/api/v1/callbacks", headers=deputy["headers"]).get_json()["callbacks"]] == [tid]
    assert post(client, f"/callbacks/{tid}/claim", deputy).status_code == 200
    client.put("/api/v1/callbacks/deputy", headers=team["manager"]["headers"], json={"deputy": None})
    assert post(client, f"/callbacks/{tid}/reassign", team["manager"], {"manager": "deputy"}).status_code == 403
    moved = post(client, f"/callbacks/{tid}/reassign", admin, {"manager": "deputy"})
    assert moved.status_code == 200 and moved.get_json()["manager_id"] == deputy["id"]
    assert moved.get_json()["status"] == "open"
    queue = client.get("/api/v1/callbacks", headers=deputy["headers"]).get_json()["callbacks"]
    assert [c["id"] for c in queue] == [tid] and queue[0]["need_arose_at"] == t["created_at"]


def test_dial_job_retried_after_a_twilio_outage_places_exactly_one_call(twilio_app, twilio_http):
    """Every Twilio request is made by a job that can be retried without calling twice."""
    from datetime import timedelta

    from call_flows.jobs import attempts, outbox
    from call_flows.unit_of_work import FakeUnitOfWork
    from call_flows.models import OutboxJob
    from tests.conftest import Staff

    client = twilio_app.test_client()
    staff = Staff(twilio_app)
    manager = staff.add("manager", "line_manager", team="T", phone="+447700900001")
    handler = staff.add("handler", "call_handler", manager="manager", team="T")
    t = terminated_call(twilio_app, client, handler)
    post(client, f"/callbacks/{t['callback_task_id']}/claim", manager)
    twilio_http.fail_next = 1
    assert post(client, f"/callbacks/{t['callback_task_id']}/dial", manager).status_code == 202
    session = twilio_app.extensions["sessionmaker"]()
    try:
        job = session.scalar(select(OutboxJob).where(OutboxJob.task == "call_flows.callbacks.dialling.place_callback"))
        assert job.status == "pending" and "stand-in outage" in job.last_error
        later = utcnow() + timedelta(hours=1)
        for _ in range(3):  # the retry, then duplicate hand-overs
            attempts.run(FakeUnitOfWork(session), job.id, twilio_app.extensions["job_context"], now=later)
        outbox.resolve(job.task)(session, twilio_app.extensions["job_context"], later, **job.args)
    finally:
        session.close()
    attempts = twilio_http.posts_to("/Calls.json")
    assert len(attempts) == 2  # one refused by the outage, one placed; never a second real call
