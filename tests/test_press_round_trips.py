"""9.16: a press reaches the caller at once. Every round trip to PostgreSQL on the way from the press
to the REST request is a wait for a time slice on a loaded machine, so the path has as few as its
guarantees allow: the web request reads the call with its termination in one statement, records the
act's job already handed over (no UPDATE before its commit), and the worker claims the job in one
autocommitted statement, then reads the act with its call in one. bench/press.py times the whole path."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from app.db import db_session, unit_of_work
from app.worker import CallguardWorker
from call_flows.clock import utcnow
from call_flows.jobs import lease, outbox
from call_flows.models import OutboxJob
from call_flows.unit_of_work import SqlAlchemyUnitOfWork
from tests.test_press_path import PLAY, queued_app  # noqa: F401  (the fixture)
from tests.test_reliability import _warned_call

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")  # the tests' own isolation


@contextmanager
def statements():
    """The SQL statements sent meanwhile, each as (text, whether the driver was in autocommit)."""
    sent: list[tuple[str, bool]] = []

    def note(conn, _cursor, statement, *_args):
        if not statement.startswith(TRANSACTION_CONTROL):
            sent.append((" ".join(statement.split()), bool(getattr(conn.connection.driver_connection, "autocommit", False))))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def _press_after_a_warning(app, act: str):
    """On a call taken and warned once, press `act` (`warnings` or `termination`): (response, SQL sent)."""
    client, handler, sid = _warned_call(app)
    with statements() as sent:
        response = client.post(f"/api/v1/calls/{sid}/{act}", headers=handler["headers"], json={"reason": "abuse"})
    assert response.status_code == 201
    return response, [text for text, _ in sent]


def test_9_16_a_warning_reads_its_call_once_and_records_its_job_handed_over(queued_app):  # noqa: F811
    response, texts = _press_after_a_warning(queued_app, "warnings")
    assert not [t for t in texts if t.startswith("SELECT terminations.id FROM")]  # read with the call (status.why_ended)
    assert any(t.startswith("SELECT calls.") and "LEFT OUTER JOIN terminations" in t for t in texts)
    assert not [t for t in texts if t.startswith("UPDATE outbox_jobs")]  # recorded `enqueued`, not marked after
    with queued_app.app_context():
        job = db_session().scalar(select(OutboxJob).where(OutboxJob.key == f"warning-{response.json['id']}"))
        assert job.status == "enqueued"


def test_9_16_a_termination_is_one_insert_and_its_notice_is_recorded_handed_over(queued_app):  # noqa: F811
    response, texts = _press_after_a_warning(queued_app, "termination")
    before_commit = texts[:next(i for i, t in enumerate(texts) if "INSERT INTO outbox_jobs" in t) + 2]
    assert not [t for t in before_commit if t.startswith(("UPDATE outbox_jobs", "SELECT terminations.id FROM"))]
    inserts = [t for t in texts if t.startswith("INSERT INTO terminations")]
    assert len(inserts) == 1
    if "ON CONFLICT" not in inserts[0]:  # SQLite guards the unique call_id with a SAVEPOINT instead
        assert queued_app.extensions["engine"].dialect.name != "postgresql"


def test_9_16_the_worker_reads_the_warning_and_its_call_in_one_statement_before_the_redirect(  # noqa: F811
        queued_app, redis_connection):
    _warned_call(queued_app)
    with statements() as sent:
        CallguardWorker(queued_app.extensions["queues"], connection=redis_connection).work(burst=True)
    texts = [text for text, _ in sent]
    claim = next(i for i, t in enumerate(texts) if t.startswith(("UPDATE outbox_jobs AS job", "UPDATE outbox_jobs SET status")))
    settled = next(i for i, t in enumerate(texts) if t.startswith("UPDATE warnings SET platform_status"))
    reads = [t for t in texts[claim + 1:settled] if not t.startswith(("SELECT outbox_jobs", "SELECT org_settings"))]
    assert len(reads) == 1 and "JOIN calls" in reads[0] and "terminations" in reads[0]
    with queued_app.app_context():
        assert {j.task: j.status for j in db_session().scalars(select(OutboxJob))}[PLAY] == "done"


def test_9_16_a_job_committed_outside_the_unit_of_work_waits_pending_for_the_sweeper(queued_app):  # noqa: F811
    """Jobs are recorded `enqueued` only because the unit of work's commit hands them over; a commit
    that does not (the session committed directly) leaves them `pending`, which the sweeper hands over."""
    with queued_app.app_context():
        with unit_of_work() as uow:
            job = outbox.record(uow.session, "warning-997", PLAY, {"warning_id": 997})
            assert job.status == "enqueued"
            uow.session.commit()  # not uow.commit(): nothing is handed to the queue
        session = db_session()
        session.expire_all()
        assert session.get(OutboxJob, job.id).status == "pending"
        assert job.id in outbox.due_for_redispatch(session, utcnow())


def test_9_16_a_job_due_later_is_recorded_pending_even_in_a_unit_of_work_that_hands_over(queued_app):  # noqa: F811
    from datetime import timedelta

    with queued_app.app_context():
        with unit_of_work() as uow:
            job = outbox.record(uow.session, "warning-996", PLAY, {"warning_id": 996}, run_at=utcnow() + timedelta(hours=1))
            assert job.status == "pending"


@pytest.mark.real_commits
def test_9_16_the_claim_is_one_autocommitted_statement_and_the_pool_gets_a_transactional_connection(
        queued_app):  # noqa: F811
    """The claim is committed (fsync) before the task calls out, without a BEGIN and a COMMIT of its own,
    and the connection goes back to the pool out of autocommit (the next transaction is one)."""
    handover = queued_app.extensions["handover"]
    with queued_app.app_context():
        session = db_session()
        job_id = outbox.record(session, "warning-995", PLAY, {"warning_id": 995}).id
        session.commit()
    autocommit = queued_app.extensions["engine"].dialect.name == "postgresql"
    with statements() as sent:
        with SqlAlchemyUnitOfWork(handover) as uow:
            assert lease.claim_attempt(uow, job_id, utcnow()) == lease.Claimed(PLAY, {"warning_id": 995}, None)
            assert not uow.session.in_transaction()
    claims = [(text, auto) for text, auto in sent if text.startswith("UPDATE outbox_jobs")]
    assert len(claims) == 1 and claims[0][1] is autocommit
    with queued_app.extensions["engine"].connect() as conn:
        assert not getattr(conn.connection.driver_connection, "autocommit", False)
        assert conn.scalar(select(OutboxJob.status).where(OutboxJob.id == job_id)) == "running"


@pytest.mark.real_commits
def test_9_16_only_reads_and_the_claim_run_without_a_transaction_every_write_of_a_press_is_in_one(
        queued_app, redis_connection):  # noqa: F811
    """call_flows/autocommit.py: the token's user and the job's act are read without a BEGIN first and the
    claim is autocommitted; the act, its incident and its job are written in one transaction (nothing is
    lost), and so is the settling of the job."""
    client, handler, sid = _warned_call(queued_app)
    postgres = queued_app.extensions["engine"].dialect.name == "postgresql"
    with statements() as sent:
        response = client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
        CallguardWorker(queued_app.extensions["queues"], connection=redis_connection).work(burst=True)
    assert response.status_code == 201
    autocommitted = [text for text, auto in sent if auto]
    writes = [text for text, auto in sent if text.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert sent[0][0].startswith("SELECT users.") and sent[0][1] is postgres  # the bearer token's user
    assert [w for w in writes if w in autocommitted] == [w for w in writes if w.startswith("UPDATE outbox_jobs AS job")]
    assert len([t for t in autocommitted if t.startswith("UPDATE outbox_jobs AS job")]) == (2 if postgres else 0)
    assert any(t.startswith("SELECT warnings.") and "JOIN calls" in t for t in autocommitted) is postgres
    with queued_app.app_context():
        assert {j.key: j.status for j in db_session().scalars(select(OutboxJob))}[f"warning-{response.json['id']}"] == "done"


def test_9_16_a_job_is_handed_to_redis_in_one_round_trip(queued_app, monkeypatch):  # noqa: F811
    """RQ's enqueue registers the queue (SADD rq:queues) in a round trip of its own unless given a pipeline."""
    client, handler, sid = _warned_call(queued_app)
    urgent = queued_app.extensions["urgent_queue"]
    urgent.empty()
    direct, pipelines = [], []
    monkeypatch.setattr(urgent.connection, "execute_command", lambda *args, **kwargs: direct.append(args))
    real_pipeline = urgent.connection.pipeline
    monkeypatch.setattr(urgent.connection, "pipeline", lambda *a, **k: pipelines.append(1) or real_pipeline(*a, **k))
    response = client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    monkeypatch.undo()
    assert response.status_code == 201
    assert [a for a in direct if a[0] != "PUBLISH"] == [] and len(pipelines) == 1  # the live event is published apart
    assert urgent.job_ids == [f"outbox-{_job_id(queued_app, response.json['id'])}-0"]


def _job_id(app, warning_id: int) -> int:
    with app.app_context():
        return db_session().scalar(select(OutboxJob.id).where(OutboxJob.key == f"warning-{warning_id}"))


def test_9_16_the_workers_heartbeat_is_one_round_trip(queued_app, redis_connection, monkeypatch):  # noqa: F811
    """RQ sends a heartbeat right after taking a job and before running it: three commands, pipelined here."""
    worker = CallguardWorker(queued_app.extensions["queues"], connection=redis_connection)
    direct: list[tuple] = []
    monkeypatch.setattr(worker.connection, "execute_command", lambda *args, **kwargs: direct.append(args))
    worker.heartbeat()
    monkeypatch.undo()
    assert direct == []
    assert redis_connection.hget(worker.key, "last_heartbeat") and redis_connection.ttl(worker.key) > 0


def test_9_16_a_held_job_due_now_waits_pending_though_recorded_in_a_unit_of_work_that_hands_over(
        queued_app):  # noqa: F811
    with queued_app.app_context():
        with unit_of_work() as uow:
            job = outbox.record(uow.session, "warning-994", PLAY, {"warning_id": 994})
            outbox.hold(uow.session, job.id)
            uow.commit()
        assert queued_app.extensions["urgent_queue"].job_ids == []
        session = db_session()
        session.expire_all()
        assert session.get(OutboxJob, job.id).status == "pending"
