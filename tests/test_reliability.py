"""Nothing is lost (DOMAIN principles): faults inside never reach the caller, and side effects
recorded in the outbox run once Redis is back."""
from xml.etree import ElementTree

from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.db import db_session
from app.jobs import queue_names
from app.simulator import new_call_sid, signed_post
from call_flows.models import OutboxJob, PlatformAction, Termination
from tests import twiml
from tests.conftest import Staff, make_app
from workers.context import use

DEAD_DB = "postgresql+psycopg://postgres@127.0.0.1:1/none"
DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_database_down_at_ring_still_connects_the_caller(database_url, caplog):
    app = make_app(DEAD_DB)
    response = signed_post(app, app.test_client(), "/twilio/voice/inbound",
                           {"CallSid": new_call_sid(), "From": "+447700900123"})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert ElementTree.fromstring(response.data).find("./Dial/Conference") is not None
    assert "ring-time lookup failed" in caplog.text


def test_redis_down_at_ring_still_connects_and_records_the_call(database_url, app):
    broken = make_app(database_url, REDIS_URL=DEAD_REDIS)
    sid = new_call_sid()
    response = signed_post(broken, broken.test_client(), "/twilio/voice/inbound", {"CallSid": sid, "From": "+447700900123"})
    assert response.status_code == 200 and twiml.has(response.data, "Conference")
    assert broken.test_client().get("/readyz").status_code == 503
    broken.extensions["engine"].dispose()


def _warned_call(app):
    staff = Staff(app)
    staff.add("manager", "line_manager", team="T")
    handler = staff.add("handler", "call_handler", manager="manager", team="T")
    client = app.test_client()
    sid = new_call_sid()
    signed_post(app, client, "/twilio/voice/inbound", {"CallSid": sid, "From": "+447700900123"})
    client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"])
    client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    return client, handler, sid


def _jobs(app):
    with app.app_context():
        return {j.task.rsplit(".", 1)[-1]: j.status for j in db_session().scalars(select(OutboxJob))}


def test_redis_down_during_terminate_loses_nothing_and_the_job_runs_when_back(database_url, app, redis_connection):
    broken = make_app(database_url, REDIS_URL=DEAD_REDIS)
    client, handler, sid = _warned_call(broken)
    response = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json={"reason": "abuse"})
    assert response.status_code == 201  # accepted and stored although Redis is down
    jobs = _jobs(broken)
    assert {"play_warning", "end_call", "notify_manager"} <= set(jobs) and set(jobs.values()) == {"pending"}

    # Redis is back: the sweeper hands the pending jobs to RQ and a worker runs them, once.
    redis_connection.flushdb()
    urgent, queue = (Queue(name, connection=redis_connection) for name in queue_names(broken.config["RQ_QUEUE"]))
    broken.extensions["handover"].queue, broken.extensions["handover"].urgent_queue = queue, urgent
    use(broken.extensions["handover"])
    try:
        assert broken.extensions["handover"].sweep() == len(jobs)
        assert set(_jobs(broken).values()) == {"enqueued"}
        SimpleWorker([urgent, queue], connection=redis_connection).work(burst=True)
        assert _jobs(broken) == {task: "done" for task in jobs}
        assert broken.extensions["handover"].sweep() == 0  # nothing left to hand over; running again does not repeat
        with broken.app_context():
            actions = db_session().scalars(select(PlatformAction).where(PlatformAction.call_sid == sid)
                                           .order_by(PlatformAction.id)).all()
            assert [twiml.count(a.payload["twiml"], "Hangup") for a in actions] == [0, 1]
            assert db_session().scalar(select(Termination)).platform_status == "played"
    finally:
        use(None)
        broken.extensions["engine"].dispose()


def test_one_retry_policy_a_failed_platform_call_is_retried_once_at_its_run_at_without_repeating_done_work(
        database_url, app, redis_connection, twilio_http):
    """Issue 9.6: one retry policy. RQ never retries by itself; the outbox schedules the retry (the row
    waits `pending` for its run_at, and the sweep hands it over then: RQ's scheduler holds nothing, so a
    worker killed holding its lock delays no retry, issue 12), and done work is never repeated."""
    import time_machine

    from call_flows.clock import as_utc

    app = make_app(database_url, REDIS_CONNECTION=redis_connection, REDIS_URL="redis://configured-by-test",
                   TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="tok", TWILIO_HTTP_CLIENT=twilio_http)
    redis_connection.flushdb()
    use(app.extensions["handover"])
    try:
        twilio_http.fail_next = 1  # Twilio answers 503 once
        client, handler, sid = _warned_call(app)
        queue = app.extensions["urgent_queue"]  # play_warning: a caller waits (9.16)
        worker = SimpleWorker(app.extensions["queues"], connection=redis_connection)
        worker.work(burst=True)
        assert len(twilio_http.posts_to(f"/Calls/{sid}.json")) == 1  # RQ did not retry on its own
        with app.app_context():
            job = db_session().scalar(select(OutboxJob))
            assert job.attempts == 1 and "503" in job.last_error and job.status == "pending"
            run_at = as_utc(job.run_at)
        assert queue.scheduled_job_registry.get_job_ids() == [] and queue.count == 0  # held by the outbox only
        assert app.extensions["handover"].sweep() == 0  # not before its time
        worker.work(burst=True)
        assert len(twilio_http.posts_to(f"/Calls/{sid}.json")) == 1

        with time_machine.travel(run_at, tick=False):  # the retry comes due: the sweep hands it over
            assert app.extensions["handover"].sweep() == 1
        worker.work(burst=True)
        assert _jobs(app) == {"play_warning": "done"}
        assert len(twilio_http.posts_to(f"/Calls/{sid}.json")) == 2  # one failed, one succeeded
        app.extensions["handover"].sweep()
        worker.work(burst=True)
        assert len(twilio_http.posts_to(f"/Calls/{sid}.json")) == 2  # done work is not repeated
    finally:
        use(None)
        app.extensions["engine"].dispose()
