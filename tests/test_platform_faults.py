"""Issue 9.6: Twilio's errors sorted into terminal and transient, and one bounded retry policy.

Twilio (docs: error 21220 "Invalid call state", 20404 "Not found", 20429 "Too many requests"):
redirecting a call that is no longer in progress is a 400 with code 21220, an unknown call a 404
with code 20404; neither can succeed on a retry. A 429 is never processed and is safe to retry after
`Retry-After` seconds; 5xx and timeouts are transient."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from app.db import db_session
from app.simulator import new_call_sid, signed_post
from call_flows.jobs import attempts, outbox
from call_flows.unit_of_work import FakeUnitOfWork
from call_flows.clock import as_utc
from call_flows.models import Call, CallbackTask, CallWarning, Incident, OutboxJob, Termination
from call_flows.platform.faults import (CallerGone, PlatformRefused, PlatformUnavailable, from_rest_error,
                                        retry_after_seconds)
from tests.conftest import Staff

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def live_call(twilio_app):
    """A ringing call accepted by a handler, on the Twilio stand-in (jobs run in-process)."""
    client = twilio_app.test_client()
    staff = Staff(twilio_app)
    staff.add("manager", "line_manager", team="T")
    handler = staff.add("handler", "call_handler", manager="manager", team="T")
    sid = new_call_sid()
    signed_post(twilio_app, client, "/twilio/voice/inbound", {"CallSid": sid, "From": "+447700900123"})
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    return {"client": client, "sid": sid, "headers": handler["headers"]}


def _warn(live_call):
    response = live_call["client"].post(f"/api/v1/calls/{live_call['sid']}/warnings", headers=live_call["headers"],
                                        json={"reason": "abuse"})
    assert response.status_code == 201
    return response.get_json()


def _job(app, task):
    with app.app_context():
        return db_session().scalar(select(OutboxJob).where(OutboxJob.task == "call_flows.jobs.effects." + task))


def _run(app, job_id, now):
    session = app.extensions["sessionmaker"]()
    try:
        return attempts.run(FakeUnitOfWork(session), job_id, app.extensions["job_context"], now=now)
    finally:
        session.close()


def _redirects(twilio_http, sid):
    return twilio_http.posts_to(f"/Calls/{sid}.json")


@pytest.mark.parametrize("gone", ["hang_up", "forget"])  # 21220 (no longer in progress), 20404 (unknown)
def test_t1_warning_for_a_caller_who_hung_up_is_tried_once_and_recorded_caller_left(twilio_app, twilio_http,
                                                                                    live_call, gone):
    getattr(twilio_http, gone)(live_call["sid"])
    with time_machine.travel(T0, tick=False):
        body = _warn(live_call)
    assert body["platform_status"] == "caller_left"
    job = _job(twilio_app, "play_warning")
    assert job.status == "done" and job.attempts == 1  # settled after one attempt
    for later in (T0 + timedelta(minutes=1), T0 + timedelta(days=1)):  # a sweep or a duplicate: nothing more
        assert _run(twilio_app, job.id, later) == "done"
    assert len(_redirects(twilio_http, live_call["sid"])) == 1
    with twilio_app.app_context():
        assert db_session().scalar(select(CallWarning)).platform_status == "caller_left"


def test_t3_termination_of_a_caller_who_hung_up_is_caller_left_and_still_writes_note_incident_and_task(
        twilio_app, twilio_http, live_call):
    _warn(live_call)
    twilio_http.hang_up(live_call["sid"])
    response = live_call["client"].post(f"/api/v1/calls/{live_call['sid']}/termination",
                                        headers=live_call["headers"], json={"reason": "abuse"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["platform_status"] == "caller_left"
    assert body["case_note_id"] and body["incident_id"] and body["callback_task_id"]  # T4, I6, T5: nothing lost
    assert _job(twilio_app, "end_call").attempts == 1
    assert len(_redirects(twilio_http, live_call["sid"])) == 2  # the warning, and one try at the final notice
    with twilio_app.app_context():
        assert db_session().scalar(select(Termination)).platform_status == "caller_left"
        assert db_session().scalar(select(CallbackTask)) is not None and db_session().scalar(select(Incident))


def test_console_says_the_caller_had_already_gone(twilio_app, twilio_http, live_call):
    from call_flows.calls import console
    from call_flows import settings as org_settings
    from call_flows.clock import utcnow
    from call_flows.models import User
    from app.api.shapes import console_json

    twilio_http.hang_up(live_call["sid"])
    _warn(live_call)
    with twilio_app.app_context():
        session = db_session()
        handler = session.scalar(select(User).where(User.username == "handler"))
        state = console_json(console.state(session, handler, utcnow(), org_settings.load(session)))
    assert [w["platform_status"] for w in state["call"]["warnings"]] == ["caller_left"]


def test_429_is_retried_no_sooner_than_retry_after(twilio_app, twilio_http, live_call):
    twilio_http.fail_next_with(20429, retry_after=300)
    with time_machine.travel(T0, tick=False):
        assert _warn(live_call)["platform_status"] == "pending"
    job = _job(twilio_app, "play_warning")
    assert job.status == "pending" and job.attempts == 1 and "20429" in job.last_error
    assert as_utc(job.run_at) == T0 + timedelta(seconds=300)  # Retry-After, longer than the 30 s backoff
    with twilio_app.extensions["sessionmaker"]() as session:
        assert outbox.due_for_redispatch(session, T0 + timedelta(seconds=299)) == []  # not before Retry-After
        assert outbox.due_for_redispatch(session, T0 + timedelta(seconds=300)) == [job.id]
    assert _run(twilio_app, job.id, T0 + timedelta(seconds=300)) == "done"
    assert len(_redirects(twilio_http, live_call["sid"])) == 2
    with twilio_app.app_context():
        assert db_session().scalar(select(CallWarning)).platform_status == "played"


def test_short_retry_after_never_shortens_the_backoff(twilio_app, twilio_http, live_call):
    twilio_http.fail_next_with(20429, retry_after=1)
    with time_machine.travel(T0, tick=False):
        _warn(live_call)
    assert as_utc(_job(twilio_app, "play_warning").run_at) == T0 + attempts.backoff(1)


@pytest.mark.parametrize("outage", ["503", "500", "timeout"])
def test_transient_faults_are_retried_a_bounded_number_of_times_then_the_warning_is_failed(
        twilio_app, twilio_http, live_call, outage):
    if outage == "timeout":
        twilio_http.time_out_next = attempts.MAX_ATTEMPTS
    else:
        twilio_http.fail_next_with(20503 if outage == "503" else 20500, times=attempts.MAX_ATTEMPTS)
    with time_machine.travel(T0, tick=False):
        _warn(live_call)
    job = _job(twilio_app, "play_warning")
    now = T0
    while job.status == "pending":
        now = as_utc(job.run_at)
        _run(twilio_app, job.id, now)
        job = _job(twilio_app, "play_warning")
    assert job.status == "failed" and job.attempts == attempts.MAX_ATTEMPTS
    assert len(_redirects(twilio_http, live_call["sid"])) == attempts.MAX_ATTEMPTS  # bounded: no ninth try
    assert now - T0 < timedelta(hours=6)
    with twilio_app.app_context():
        assert db_session().scalar(select(CallWarning)).platform_status == "failed"


def test_other_4xx_is_terminal_the_warning_is_failed_after_one_attempt(twilio_app, twilio_http, live_call):
    twilio_http.fail_next_with(21201)
    assert _warn(live_call)["platform_status"] == "failed"
    job = _job(twilio_app, "play_warning")
    assert job.status == "failed" and job.attempts == 1
    assert _run(twilio_app, job.id, T0 + timedelta(days=1)) == "failed"
    assert len(_redirects(twilio_http, live_call["sid"])) == 1


def test_handler_is_not_rung_into_the_conference_of_a_caller_who_already_left(twilio_app, twilio_http):
    client = twilio_app.test_client()
    staff = Staff(twilio_app)
    handler = staff.add("handler", "call_handler", team="T", phone="+447700900002")
    sid = new_call_sid()
    signed_post(twilio_app, client, "/twilio/voice/inbound", {"CallSid": sid, "From": "+447700900123"})
    twilio_http.hang_up(sid)
    client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"])
    job = _job(twilio_app, "connect_handler")
    assert job.status == "done" and job.attempts == 1
    assert len(twilio_http.posts_to("/Participants.json")) == 1


@pytest.mark.parametrize("status, code, kind", [
    (400, 21220, CallerGone), (404, 20404, CallerGone), (404, None, CallerGone),
    (429, 20429, PlatformUnavailable), (500, 20500, PlatformUnavailable), (503, 20503, PlatformUnavailable),
    (502, None, PlatformUnavailable), (400, 21201, PlatformRefused), (401, 20003, PlatformRefused),
    (403, 20403, PlatformRefused),
])
def test_twilio_errors_are_sorted_into_terminal_and_transient(status, code, kind):
    fault = from_rest_error(status, code, "x", None)
    assert type(fault) is kind
    assert fault.terminal is (kind is not PlatformUnavailable)


@pytest.mark.parametrize("header, seconds", [
    ("120", 120.0), ("0", 0.0), (" 7 ", 7.0), ("Mon, 30 Nov 2026 10:02:00 GMT", 120.0),
    ("Mon, 30 Nov 2026 09:00:00 GMT", 0.0), ("999999", 3600.0), ("soon", None), ("", None), (None, None),
])
def test_retry_after_is_read_as_seconds_or_an_http_date(header, seconds):
    assert retry_after_seconds(header, now=T0) == seconds


def test_simulated_platform_answers_like_twilio_for_a_caller_who_hung_up(app, client, ring, team):
    """Embedded default: the simulated platform refuses to redirect an ended call, as Twilio does (21220)."""
    from call_flows.clock import utcnow

    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    with app.app_context():  # the caller hangs up between the handler pressing warn and the job running
        session = db_session()
        call = session.scalar(select(Call))
        session.add(CallWarning(call_id=call.id, caller=call.caller, reason="abuse", given_by_id=team["handler"]["id"],
                                created_at=utcnow(), platform_status="pending"))
        call.status = "completed"
        session.flush()
        job = outbox.record(session, "warning-test", "call_flows.jobs.effects.play_warning",
                            {"warning_id": session.scalar(select(CallWarning.id))})
        session.commit()
        job_id = job.id
    assert _run(app, job_id, utcnow()) == "done"
    with app.app_context():
        assert db_session().scalar(select(CallWarning)).platform_status == "caller_left"
