"""What an outbox job shows the board and consoles (`warning_played`, `warning_failed`, ...) is a
domain event the task records in the job's transaction, published by the unit of work the job
commits through: after that commit, and never for a transaction that rolled back."""
from datetime import timedelta

from sqlalchemy import select

from call_flows import events as domain_events
from call_flows.calls import control
from call_flows.clock import utcnow
from call_flows.jobs import attempts, effects
from call_flows.models import CallWarning, OutboxJob
from call_flows.platform.faults import PlatformRefused


def _warn(world, monkeypatch, fail_with):
    """Accept the call, then warn with the platform's redirect failing (`fail_with`) while the job runs."""
    uow = world["uow"]
    with uow:
        control.accept(uow.session, world["call"].call_sid, world["handler"], utcnow())
        uow.commit()
    world["bus"].events.clear()
    monkeypatch.setattr(type(world["bus"]), "publish", _publish_after_commit(world))
    monkeypatch.setattr(effects, "record", fail_with)
    with uow:
        warning = control.warn(uow.session, world["call"].call_sid, world["handler"], "abuse", "shouting", utcnow())
        uow.commit()
    return warning


def _publish_after_commit(world):
    """The bus's publish, checking that the job's transaction is committed when it is called."""

    def publish(bus, event):
        with world["session"].bind.connect() as other:  # another connection sees only committed rows
            status = other.scalar(select(CallWarning.platform_status))
        bus.events.append({**event, "stored_status": status})

    return publish


def test_t1_a_job_that_fails_after_recording_its_event_publishes_nothing_and_its_retry_publishes_once(
        world, monkeypatch):
    def record_then_fail(session, *events):
        domain_events.record(session, *events)
        raise RuntimeError("the job failed after recording warning_played")

    warning = _warn(world, monkeypatch, record_then_fail)
    session = world["session"]
    job = session.scalar(select(OutboxJob).where(OutboxJob.task.endswith("play_warning")))
    session.refresh(job)
    assert job.status == "pending" and "after recording" in job.last_error  # rolled back, retry due
    assert world["bus"].events == []  # the rolled-back transaction's event is never published

    monkeypatch.setattr(effects, "record", domain_events.record)  # the fault is over
    world["uow"].handover.run(session, job.id, now=utcnow() + timedelta(hours=1))
    session.refresh(warning)
    assert warning.platform_status == "played"
    assert [(e["kind"], e["stored_status"]) for e in world["bus"].events] == [("warning_played", "played")]


def test_t1_a_warning_the_platform_refuses_publishes_warning_failed_after_the_failure_is_committed(
        world, monkeypatch):
    refused = PlatformRefused("HTTP 400, Twilio error 21201", 21201, 400)
    monkeypatch.setattr(type(world["bus"]), "publish", _publish_after_commit(world))

    def redirect_refused(*_args, **_kwargs):
        raise refused

    uow = world["uow"]
    with uow:
        control.accept(uow.session, world["call"].call_sid, world["handler"], utcnow())
        uow.commit()
    world["bus"].events.clear()
    monkeypatch.setattr(world["uow"].handover.ctx.platform, "redirect_call", redirect_refused)
    with uow:
        warning = control.warn(uow.session, world["call"].call_sid, world["handler"], "abuse", "shouting", utcnow())
        uow.commit()
    world["session"].refresh(warning)
    assert warning.platform_status == "failed"
    assert world["bus"].events == [{"kind": "warning_failed", "call_sid": world["call"].call_sid,
                                    "team_id": world["handler"].team_id, "handler_id": world["handler"].id,
                                    "stored_status": "failed"}]
    job = world["session"].scalar(select(OutboxJob).where(OutboxJob.task.endswith("play_warning")))
    assert job.status == "failed" and job.attempts == 1 < attempts.MAX_ATTEMPTS  # a refusal is terminal


def test_r1_ring_event_is_published_without_a_transaction_and_an_act_with_follow_ups_is_refused():
    """ring time publishes its committed CallRinging straight to the bus (with its card, placed
    "ringing", as the unit of work would publish it); an event with an outbox job (T1's warning) is
    refused there, so what follows an act never depends on how it was published."""
    import pytest

    from call_flows.events import CallRinging, CallWarned, Event
    from call_flows.live_events import LocalBroadcaster
    from call_flows.live_events import publish
    from call_flows.unit_of_work import committed_live

    bus = LocalBroadcaster()
    seen = bus.subscribe()
    card = {"call_sid": "CA1", "marker": 1}
    publish(bus, committed_live(CallRinging("CA1", "••••0555", "number", 1, ["repeat_warnings"], False, "2026-11-30T09:00:00",
                                       None, card)))
    assert seen.get_nowait() == {"kind": "call_ringing", "call_sid": "CA1", "caller": "••••0555", "caller_kind": "number",
                                 "marker": 1, "signals": ["repeat_warnings"], "restricted": False,
                                 "at": "2026-11-30T09:00:00", "named_officer_id": None, "card": card, "place": "ringing"}
    ringing = CallRinging("CA2", None, "withheld", None, [], False, "2026-11-30T09:00:00", None, card)
    assert ringing.live() == Event.live(ringing)  # its shallow live() drops no field
    with pytest.raises(ValueError):
        committed_live(CallWarned("CA1", "abuse", 3, 4, warning_id=9))
    assert seen.empty()


def test_live_events_reach_subscribers_from_each_thread_and_after_a_dropped_redis_connection():
    """RedisBroadcaster keeps a Redis connection per thread: events published from two threads arrive,
    and when a thread's connection fails (Redis restarted) the event is sent again on a new one."""
    import os
    import threading
    import time

    import fakeredis
    import redis

    from call_flows.live_events import RedisBroadcaster, subscription

    import uuid

    kind = f"t-{uuid.uuid4().hex}"  # pub/sub is server-wide: other programs publish on a shared Redis
    url = os.environ.get("TEST_REDIS_URL")
    client = redis.Redis.from_url(url) if url else fakeredis.FakeRedis()
    bus = RedisBroadcaster(client)
    sub = subscription(bus)
    try:
        workers = [threading.Thread(target=bus.publish, args=({"kind": kind, "n": n},)) for n in (1, 2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        held = bus._connection()
        real_send, failures = held.send_command, []

        def dropped(*args, **kwargs):  # the first send fails as on a socket Redis closed
            if not failures:
                failures.append(args)
                raise redis.ConnectionError("Connection closed by server.")
            return real_send(*args, **kwargs)

        held.send_command = dropped
        bus.publish({"kind": kind, "n": 3})
        got, deadline = [], time.monotonic() + 5
        while len(got) < 3 and time.monotonic() < deadline:
            event = sub.get(0.5)
            if event is not None and event.get("kind") == kind:
                got.append(event["n"])
        assert sorted(got) == [1, 2, 3] and len(failures) == 1
    finally:
        sub.close()
