"""9.16: a termination is committed and its final notice handed over before the write-up (T4 case
note, I6 incident, T5 callback task, issue 6 recovery). The write-up is guarded by an outbox job
recorded with the termination, so a request that dies between the two commits loses nothing, and
the write-up is never done twice."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db_session, unit_of_work
from call_flows import follow_ups
from call_flows.calls import control
from call_flows.events import CallTerminated
from call_flows.jobs import attempts, outbox
from call_flows.unit_of_work import FakeUnitOfWork
from call_flows.clock import utcnow
from call_flows.models import CallbackTask, CaseNote, OutboxJob, Termination, User
from call_flows.calls.write_up import WRITE_UP_GRACE, guard_key
from tests.test_press_path import _queued_tasks, queued_app  # noqa: F401  (fixture)
from tests.test_reliability import _warned_call


class RequestDied(Exception):
    pass


def _die_after_the_first_commit(uow, event):
    raise RequestDied


def _terminate_and_die(app, sid, note):
    """The request dies once the termination's first commit has handed the final notice over."""
    with pytest.MonkeyPatch.context() as patch, app.test_request_context():
        patch.setitem(follow_ups.AFTER_COMMIT, CallTerminated, _die_after_the_first_commit)
        with pytest.raises(RequestDied), unit_of_work() as uow:
            handler = uow.session.scalar(select(User).where(User.username == "handler"))
            control.terminate(uow.session, sid, handler, "abuse", None, None, None, note, utcnow())
            uow.commit()


def test_t3_t4_the_final_notice_is_handed_over_before_the_write_up_and_a_request_dying_between_loses_nothing(
        queued_app):  # noqa: F811
    _, _, sid = _warned_call(queued_app)
    for queue in queued_app.extensions["queues"]:
        queue.empty()
    _terminate_and_die(queued_app, sid, {"spoke_to": "Mr Smith"})
    assert _queued_tasks(queued_app) == ["end_call"]  # the caller's final notice is on its way already
    with queued_app.app_context():
        session = db_session()
        termination = session.scalar(select(Termination))
        assert termination.case_note_id is None
        guard = session.scalar(select(OutboxJob).where(OutboxJob.key == guard_key(termination.id)))
        now = utcnow()
        assert guard.id not in outbox.due_for_redispatch(session, now)  # the request had its chance first
        assert guard.id in outbox.due_for_redispatch(session, now + WRITE_UP_GRACE + timedelta(minutes=1))
        assert attempts.run(FakeUnitOfWork(session), guard.id, queued_app.extensions["job_context"]) == "done"  # a worker runs it
        assert attempts.run(FakeUnitOfWork(session), guard.id, queued_app.extensions["job_context"]) == "done"  # again: no repeat
        termination = session.scalar(select(Termination))
        note = session.get(CaseNote, termination.case_note_id)
        assert note.fields == {"spoke_to": "Mr Smith"} and termination.callback_task_id is not None
        assert session.scalar(select(func.count(CaseNote.id))) == 1
        assert session.scalar(select(func.count(CallbackTask.id))) == 1


def test_t4_a_repeat_while_the_write_up_is_outstanding_is_the_same_termination_not_a_conflict(
        queued_app):  # noqa: F811
    client, handler, sid = _warned_call(queued_app)
    _terminate_and_die(queued_app, sid, {"spoke_to": "Mr Smith"})
    same = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"],
                       json={"reason": "abuse", "note": {"spoke_to": "Mr Smith"}})
    assert same.status_code == 200
    other = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"],
                        json={"reason": "abuse", "note": {"spoke_to": "Mrs Jones"}})
    assert other.status_code == 409


def test_t3_the_api_answers_with_the_write_up_ids_and_leaves_no_guard(queued_app):  # noqa: F811
    client, handler, sid = _warned_call(queued_app)
    response = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json={"reason": "abuse"})
    body = response.get_json()
    assert response.status_code == 201
    assert body["case_note_id"] and body["incident_id"] and body["callback_task_id"]
    with queued_app.app_context():
        assert db_session().scalar(select(OutboxJob).where(OutboxJob.key == guard_key(body["id"]))) is None
        tasks = {path.rsplit(".", 1)[-1] for path in db_session().scalars(select(OutboxJob.task))}
        assert {"end_call", "notify_manager", "alert_team_lead"} <= tasks
