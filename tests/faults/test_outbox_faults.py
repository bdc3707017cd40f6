"""Issue 12 faults 2, 5 and 6 at the outbox's seam, on the real `twilio` library and the Twilio
stand-in (tests/twilio_standin.py), against PostgreSQL when TEST_DATABASE_URL is set (CI).

A worker killed with `kill -9` while it waits on Twilio is modelled by the stand-in's `after_answer`
hook raising a BaseException the outbox does not catch: Twilio has taken the request (the act
landed) but the worker never settles the job, exactly as a killed process leaves it."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select, text

from app.db import db_session
from call_flows.jobs import attempts, lease, outbox
from call_flows.models import Call, CallWarning, OutboxJob, Termination
from tests import twiml
from tests.test_platform_faults import _job, _run as _run_job, _warn
from workers.reconcile_jobs import reconcile_calls

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
COUNTS = {"faults_injected": 0, "acts_pressed": 0, "acts_stored": 0, "effects_expected": 0, "effects_seen": 0}


def _run(app, job_id, now):
    """A worker runs the job at `now`, the clock at `now` too (the stand-in dates what lands by it)."""
    with time_machine.travel(now, tick=False):
        return _run_job(app, job_id, now)


class WorkerKilled(BaseException):
    """kill -9: nothing after this point of the worker runs (not even `except Exception`)."""


def _kill_when(twilio_http, suffix, landed=True):
    """The next request to `suffix` kills its worker: after Twilio answered (landed) or before it left."""
    COUNTS["faults_injected"] += 1

    def after(record):
        if record["url"].endswith(suffix) and record["method"] == "POST":
            twilio_http.after_answer = None
            raise WorkerKilled

    def before(method, url):
        if url.endswith(suffix) and method == "POST":
            twilio_http.before_request = None
            raise WorkerKilled

    if landed:
        twilio_http.after_answer = after
    else:
        twilio_http.before_request = before


def _terminate(live_call):
    response = live_call["client"].post(f"/api/v1/calls/{live_call['sid']}/termination",
                                        headers=live_call["headers"],
                                        json={"reason": "abuse", "immediate_reason": "threat_of_violence"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _press_then_kill(twilio_app, twilio_http, live_call, press, task, landed):
    """Press an act while Twilio answers 503 (the job waits for its retry), then run the retry on a
    worker that is killed while its redirect is in flight. Returns the job."""
    twilio_http.fail_next_with(20503)
    with time_machine.travel(T0, tick=False):
        press(live_call)
    COUNTS["acts_pressed"] += 1
    job = _job(twilio_app, task)
    assert job.status == "pending" and job.attempts == 1
    _kill_when(twilio_http, f"/Calls/{live_call['sid']}.json", landed)
    with pytest.raises(WorkerKilled):
        _run(twilio_app, job.id, T0 + timedelta(minutes=1))
    return _job(twilio_app, task)


def _pick_up_again(twilio_app, job):
    """Another worker: nothing while the dead worker's lease runs; the sweeper then hands it over."""
    assert job.status == "running" and job.attempts == 2  # the attempt marker was committed before the call
    assert _run(twilio_app, job.id, T0 + timedelta(minutes=1, seconds=30)) == "running"
    later = T0 + timedelta(minutes=1) + timedelta(seconds=lease.LEASE_S)
    with twilio_app.app_context():
        assert job.id in outbox.due_for_redispatch(db_session(), later)
    return _run(twilio_app, job.id, later)


@pytest.mark.parametrize("landed", [True, False])
def test_fault2_worker_killed_with_the_warning_in_flight_t1_played_once_and_only_when_it_landed(
        twilio_app, twilio_http, live_call, landed):
    """The next worker asks Twilio (GET /Calls/{sid}: status, date_updated) before repeating: a
    redirect that landed moved the call's date_updated, so it is recorded `played` and not sent
    again; one that never left did not, so it is sent once more (and then `played`)."""
    job = _press_then_kill(twilio_app, twilio_http, live_call, _warn, "play_warning", landed)
    assert _pick_up_again(twilio_app, job) == "done"
    sid = live_call["sid"]
    assert len(twilio_http.landed(f"/Calls/{sid}.json")) == 1  # heard once, never twice
    asked = [r["method"] for r in twilio_http.requests if r["url"].endswith(f"/Calls/{sid}.json")]
    assert asked[-2:] == (["POST", "GET"] if landed else ["GET", "POST"])
    with twilio_app.app_context():
        assert db_session().scalar(select(CallWarning)).platform_status == "played"
    COUNTS["acts_stored"] += 1
    COUNTS["effects_expected"] += 1
    COUNTS["effects_seen"] += len(twilio_http.landed(f"/Calls/{sid}.json"))


@pytest.mark.parametrize("landed", [True, False])
def test_fault2_worker_killed_while_the_final_notice_was_in_flight_t3_notice_played_once(
        twilio_app, twilio_http, live_call, landed):
    job = _press_then_kill(twilio_app, twilio_http, live_call, _terminate, "end_call", landed)
    assert _pick_up_again(twilio_app, job) == "done"
    sid = live_call["sid"]
    notices = twilio_http.landed(f"/Calls/{sid}.json")
    assert len(notices) == 1 and twiml.has(notices[0]["data"]["Twiml"], "Hangup")  # once: repeated only if it never left
    with twilio_app.app_context():
        assert db_session().scalar(select(Termination)).platform_status == "played"
        assert db_session().scalar(select(OutboxJob).where(OutboxJob.task == "call_flows.jobs.effects.end_call")).status == "done"
    COUNTS["acts_stored"] += 1
    COUNTS["effects_expected"] += 1
    COUNTS["effects_seen"] += len(notices)


def test_fault2_caller_gone_when_the_warning_is_picked_up_again_is_caller_left(twilio_app, twilio_http, live_call):
    job = _press_then_kill(twilio_app, twilio_http, live_call, _warn, "play_warning", landed=False)
    twilio_http.hang_up(live_call["sid"])  # they hung up while no worker held the job
    assert _pick_up_again(twilio_app, job) == "done"
    assert twilio_http.landed(f"/Calls/{live_call['sid']}.json") == []
    with twilio_app.app_context():
        assert db_session().scalar(select(CallWarning)).platform_status == "caller_left"
    COUNTS["acts_stored"] += 1


def test_fault5_a_stalled_twilio_request_holds_no_outbox_row_lock(twilio_app, twilio_http, live_call):
    """While the redirect waits on Twilio, another session can lock the job's row at once (NOWAIT on
    PostgreSQL) and sees the claim (running, attempt counted): the claim was its own transaction."""
    seen = {}
    COUNTS["faults_injected"] += 1

    def stall(record):
        if record["method"] != "POST" or not record["url"].endswith(f"/Calls/{live_call['sid']}.json"):
            return
        twilio_http.after_answer = None
        other = twilio_app.extensions["sessionmaker"]()
        try:
            lock = " FOR UPDATE NOWAIT" if other.get_bind().dialect.name == "postgresql" else ""
            seen["row"] = other.execute(text("SELECT status, attempts FROM outbox_jobs "
                                             f"WHERE task = 'call_flows.jobs.effects.play_warning'{lock}")).one()
            other.rollback()
        finally:
            other.close()

    twilio_http.after_answer = stall
    with time_machine.travel(T0, tick=False):
        body = _warn(live_call)
    COUNTS["acts_pressed"] += 1
    assert tuple(seen["row"]) == ("running", 1)
    assert body["platform_status"] == "played"
    assert _job(twilio_app, "play_warning").status == "done"
    COUNTS["acts_stored"] += 1
    COUNTS["effects_expected"] += 1
    COUNTS["effects_seen"] += len(twilio_http.landed(f"/Calls/{live_call['sid']}.json"))


def test_fault5_twilio_429_then_503_then_recovers_each_act_reaches_twilio_once_retry_after_honoured(
        twilio_app, twilio_http, live_call):
    twilio_http.fail_next_with(20429, retry_after=300)
    COUNTS["faults_injected"] += 2
    with time_machine.travel(T0, tick=False):
        _warn(live_call)
    COUNTS["acts_pressed"] += 1
    job = _job(twilio_app, "play_warning")
    assert job.status == "pending" and job.run_at.replace(tzinfo=timezone.utc) >= T0 + timedelta(seconds=300)
    with twilio_app.app_context():  # not handed over before Retry-After
        assert job.id not in outbox.due_for_redispatch(db_session(), T0 + timedelta(seconds=299))
    twilio_http.fail_next_with(20503)
    assert _run(twilio_app, job.id, T0 + timedelta(seconds=300)) == "pending"
    delay = _job(twilio_app, "play_warning").run_at.replace(tzinfo=timezone.utc) - (T0 + timedelta(seconds=300))
    assert timedelta(0) < delay <= timedelta(seconds=attempts.MAX_DELAY_S)  # bounded backoff
    assert _run(twilio_app, job.id, T0 + timedelta(seconds=300) + delay) == "done"
    assert max(attempts.backoff(n) for n in range(attempts.MAX_ATTEMPTS + 1)) == timedelta(seconds=attempts.MAX_DELAY_S)
    landed = twilio_http.landed(f"/Calls/{live_call['sid']}.json")
    assert len(landed) == 1 and len(twilio_http.posts_to(f"/Calls/{live_call['sid']}.json")) == 3
    with twilio_app.app_context():
        assert db_session().scalar(select(CallWarning)).platform_status == "played"
    COUNTS["acts_stored"] += 1
    COUNTS["effects_expected"] += 1
    COUNTS["effects_seen"] += len(landed)


def test_fault6_calls_whose_status_callbacks_never_came_are_reconciled_from_twilio(twilio_app, twilio_http,
                                                                                   live_call):
    sid = live_call["sid"]
    COUNTS["faults_injected"] += 1
    twilio_http.hang_up(sid)  # it ended on Twilio; its status callback was never delivered
    with twilio_app.app_context():
        started = db_session().scalar(select(Call.started_at).where(Call.call_sid == sid)).replace(tzinfo=timezone.utc)
    twilio_app.config["RECONCILE_AFTER_S"] = 600
    # not yet past the threshold
    assert reconcile_calls(twilio_app.extensions["handover"], started + timedelta(seconds=599)) == 0
    assert reconcile_calls(twilio_app.extensions["handover"], started + timedelta(seconds=601)) == 1
    # settled: never asked again
    assert reconcile_calls(twilio_app.extensions["handover"], started + timedelta(seconds=700)) == 0
    gets = [r for r in twilio_http.requests if r["method"] == "GET" and r["url"].endswith(f"/Calls/{sid}.json")]
    assert len(gets) == 1
    with twilio_app.app_context():
        call = db_session().scalar(select(Call).where(Call.call_sid == sid))
        assert call.status == "completed" and call.ended_at is not None


def test_fault6_reconciling_waits_while_twilio_is_unavailable(twilio_app, twilio_http, live_call):
    twilio_http.hang_up(live_call["sid"])
    twilio_http.fail_next_with(20503)
    COUNTS["faults_injected"] += 1
    twilio_app.config["RECONCILE_AFTER_S"] = 0
    now = T0 + timedelta(days=1)
    assert reconcile_calls(twilio_app.extensions["handover"], now) == 0  # nothing guessed while Twilio cannot answer
    with twilio_app.app_context():
        assert db_session().scalar(select(Call.status).where(Call.call_sid == live_call["sid"])) != "completed"
    assert reconcile_calls(twilio_app.extensions["handover"], now + timedelta(minutes=1)) == 1


def test_counts_report():
    """Runs last in this module: prints the counts for the report; duplicates and losses are 0."""
    print("faults-counts", COUNTS)
    assert COUNTS["effects_seen"] == COUNTS["effects_expected"]
    assert COUNTS["acts_stored"] == COUNTS["acts_pressed"]  # every act pressed is stored
