"""Jobs are importable functions named by dotted path (RQ's habit): no registry to forget a module
in. An outbox row's `task` resolves with importlib, only under `call_flows.`; an unknown path fails
its job at once with a clear error (never KeyError at import); migration 0019 maps the old names."""
import importlib.util
from pathlib import Path

import pytest

from call_flows.clock import utcnow
from call_flows.jobs import attempts, outbox
from call_flows.unit_of_work import FakeUnitOfWork
from call_flows.jobs.effects import end_call, play_warning
from call_flows.jobs.mail import send_email
from call_flows.models import OutboxJob

MIGRATION = Path(__file__).resolve().parents[1] / "migrations/versions/0019_platform_task_paths.py"


def _migration():
    spec = importlib.util.spec_from_file_location("task_paths_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_renamed_task_resolves_to_the_function_at_its_path():
    paths = _migration().PATHS
    assert len(set(paths.values())) == len(paths) == 10
    for short, path in paths.items():
        fn = outbox.resolve(path)
        assert fn.__name__ == {"register_import": "run_import"}.get(short, short)
        assert outbox.path_of(fn) == path and fn.outbox_task is True


def test_the_decorator_only_annotates_urgent_and_give_up():
    assert outbox.path_of(play_warning) == "call_flows.jobs.effects.play_warning"
    assert play_warning.urgent and end_call.urgent and not send_email.urgent
    assert play_warning.on_give_up is not None and send_email.on_give_up is None
    assert outbox.is_urgent("call_flows.jobs.effects.end_call")
    assert not outbox.is_urgent("call_flows.jobs.mail.send_email")
    assert not outbox.is_urgent("call_flows.jobs.effects.no_such_task")


@pytest.mark.parametrize("path", [
    "os.system",  # outside call_flows: never imported
    "call_flows.jobs.effects.no_such_task",
    "call_flows.no_such_module.task",
    "call_flows.clock.utcnow",  # a function, but not an outbox task
    "play_warning",  # an old short name
    "call_flows.jobs.effects." + "x" * 60,  # longer than the task column holds
])
def test_a_path_that_names_no_task_is_refused(path):
    with pytest.raises(outbox.UnknownTask):
        outbox.resolve(path)


def test_recording_an_unknown_task_is_refused_before_anything_is_stored(app):
    session = app.extensions["sessionmaker"]()
    try:
        with pytest.raises(outbox.UnknownTask):
            outbox.record(session, "nope-1", "call_flows.jobs.effects.nope", {})
        assert session.query(OutboxJob).count() == 0
    finally:
        session.close()


def test_a_stored_job_naming_an_unknown_task_fails_once_with_a_clear_error(app):
    session = app.extensions["sessionmaker"]()
    try:
        now = utcnow()
        job = OutboxJob(key="gone-1", task="call_flows.jobs.effects.removed_task", args={}, run_at=now,
                        created_at=now, status="pending", attempts=0)
        session.add(job)
        session.commit()
        assert attempts.run(FakeUnitOfWork(session), job.id, app.extensions["job_context"], now) == "failed"
        job = session.get(OutboxJob, job.id)
        assert job.attempts == 1 and job.last_error.startswith("UnknownTask: ")
        assert "call_flows.jobs.effects.removed_task" in job.last_error
    finally:
        session.close()
