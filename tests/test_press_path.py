"""9.16: a press reaches the caller at once. The production worker runs jobs in its own prepared
process (no fork and no app build per job), the caller-facing task is handed over before the
e-mails recorded with it, a worker can start a job without waiting on a second commit, and a hung
Twilio request is stopped by the job timeout and left for RQ's retry instead of holding a worker.
The end-to-end latency is measured by bench/press.py."""
import threading

import pytest
from rq import Queue
from sqlalchemy import select

import call_flows.jobs.handover
from app.db import db_session
from call_flows.models import OutboxJob
from tests.conftest import make_app
from tests.test_reliability import _warned_call
from tests.twilio_standin import RecordingHttpClient
from workers.context import use
from app.worker import CallguardWorker

PLAY = "call_flows.jobs.effects.play_warning"


class HungTwilio(RecordingHttpClient):
    """Twilio accepts the connection and never answers (until the test ends)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def request(self, *args, **kwargs):
        self.release.wait(60)
        return super().request(*args, **kwargs)


@pytest.fixture
def queued_app(database_url, app, redis_connection, request):
    http = getattr(request, "param", None) or RecordingHttpClient()
    application = make_app(database_url, REDIS_CONNECTION=redis_connection, REDIS_URL="redis://configured-by-test",
                           TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="tok", TWILIO_HTTP_CLIENT=http)
    redis_connection.flushdb()
    use(application.extensions["handover"])
    yield application
    use(None)
    if isinstance(http, HungTwilio):
        http.release.set()
    application.extensions["engine"].dispose()


def _queued_tasks(app) -> list[str]:
    return [task for queue in app.extensions["queues"] for task in _tasks_in(app, queue)]  # urgent first, as a worker


def test_t3_the_final_notice_is_handed_over_before_the_emails_recorded_with_it(queued_app):
    client, handler, sid = _warned_call(queued_app)
    for queue in queued_app.extensions["queues"]:
        queue.empty()
    response = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json={"reason": "abuse"})
    assert response.status_code == 201
    tasks = _queued_tasks(queued_app)
    assert tasks[0] == "end_call" and len(tasks) > 1


def test_t3_caller_facing_jobs_go_to_the_urgent_queue_that_workers_take_before_the_emails(queued_app):
    """9.16: a backlog of e-mails never delays a warning: the worker command names `callguard-urgent` first."""
    client, handler, sid = _warned_call(queued_app)
    urgent, queue = queued_app.extensions["queues"]
    assert (urgent.name, queue.name) == ("callguard-urgent", "callguard")
    assert PLAY.rsplit(".", 1)[-1] in _tasks_in(queued_app, urgent)
    for q in (urgent, queue):
        q.empty()
    response = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json={"reason": "abuse"})
    assert response.status_code == 201
    assert _tasks_in(queued_app, urgent) == ["end_call"]
    assert _tasks_in(queued_app, queue) and "end_call" not in _tasks_in(queued_app, queue)


def _tasks_in(app, queue: Queue) -> list[str]:
    with app.app_context():
        ids = [int(job_id.split("-")[1]) for job_id in queue.job_ids]
        tasks = {job.id: job.task.rsplit(".", 1)[-1] for job in db_session().scalars(select(OutboxJob).where(OutboxJob.id.in_(ids)))}
    return [tasks[i] for i in ids]


def test_jobs_are_marked_handed_over_in_the_commit_that_records_them(queued_app):
    """So the worker's row lock on the job never waits for a second commit of the web request."""
    _warned_call(queued_app)
    with queued_app.app_context():
        assert {j.task: j.status for j in db_session().scalars(select(OutboxJob))}[PLAY] == "enqueued"


def test_t1_the_production_worker_plays_a_warning_in_its_own_prepared_process(queued_app, redis_connection):
    client, handler, sid = _warned_call(queued_app)
    worker = CallguardWorker(queued_app.extensions["queues"], connection=redis_connection)
    worker.work(burst=True)
    with queued_app.app_context():
        assert {j.task: j.status for j in db_session().scalars(select(OutboxJob))}[PLAY] == "done"
    http = queued_app.config["TWILIO_HTTP_CLIENT"]
    assert len(http.posts_to(f"/Calls/{sid}.json")) == 1


@pytest.mark.parametrize("queued_app", [HungTwilio()], indirect=True)
def test_t1_a_hung_twilio_request_is_stopped_by_the_job_timeout_and_left_for_retry(queued_app, redis_connection,
                                                                             monkeypatch):
    monkeypatch.setattr(call_flows.jobs.handover, "JOB_TIMEOUT_S", 1)
    _warned_call(queued_app)
    CallguardWorker(queued_app.extensions["queues"], connection=redis_connection).work(burst=True)
    with queued_app.app_context():
        job = db_session().scalar(select(OutboxJob).where(OutboxJob.task == PLAY))
        # the outbox's one retry policy runs it again (pending until its run_at, then the sweep)
        assert job.status in ("pending", "enqueued") and job.attempts == 1 and "JobTimeoutException" in job.last_error


def test_an_effect_recorded_twice_is_one_job_noted_once_for_hand_over(app):
    """The business key keeps one job per effect (on PostgreSQL one INSERT ... ON CONFLICT)."""
    from call_flows.jobs import outbox

    with app.app_context():
        session = db_session()
        first = outbox.record(session, "warning-999", PLAY, {"warning_id": 999})
        again = outbox.record(session, "warning-999", PLAY, {"warning_id": 999})
        assert first.id == again.id and first.status == "pending" and first.args == {"warning_id": 999}
        assert outbox.recorded_ids(session) == [first.id]
        session.commit()
        assert len(session.scalars(select(OutboxJob).where(OutboxJob.key == "warning-999")).all()) == 1


def test_fault2_a_claim_holds_its_lease_and_a_claim_after_the_lease_is_unconfirmed(app):
    """The claim (one statement on PostgreSQL, call_flows/jobs/lease.py) returns the job's task and args,
    refuses a second claimer while the lease runs and a settled job, and after the lease (its worker
    died) claims again with the time the unconfirmed attempt began (issue 12 fault 2)."""
    from datetime import timedelta

    from call_flows.clock import as_utc, utcnow
    from call_flows.jobs import lease, outbox
    from call_flows.unit_of_work import FakeUnitOfWork

    with app.app_context():
        session = db_session()
        job = outbox.record(session, "warning-998", PLAY, {"warning_id": 998})
        job_id = job.id
        session.commit()
        now = utcnow()
        assert lease.claim_attempt(FakeUnitOfWork(session), job_id, now) == lease.Claimed(PLAY, {"warning_id": 998}, None)
        assert lease.claim_attempt(FakeUnitOfWork(session), job_id, now + timedelta(seconds=1)) is None  # the lease runs
        later = now + timedelta(seconds=lease.LEASE_S + 1)
        again = lease.claim_attempt(FakeUnitOfWork(session), job_id, later)
        assert again is not None and as_utc(again.unconfirmed) == now  # began when the first attempt claimed
        row = session.get(OutboxJob, job_id)
        assert row.status == "running" and row.attempts == 2
        row.status = "done"
        session.commit()
        assert lease.claim_attempt(FakeUnitOfWork(session), job_id, later + timedelta(hours=1)) is None  # settled: never again
