"""Issue 12, found while proving fault 2: `kill -9` of the worker that holds RQ's scheduler lock. A
retry the outbox scheduled must still run within a few seconds of its run_at. Retries wait
`pending` in the outbox and the sweep (`workers.jobs.sweep`, `rq cron` every CALLGUARD_SWEEP_S; 1 s
here) hands them over when due, so RQ's scheduler lock (which outlives its dead holder by a minute)
holds none of them. The claim (call_flows/jobs/lease.py) keeps the retry from running twice."""
import os

import redis
from sqlalchemy import text

from call_flows.clock import as_utc, utcnow
from call_flows.models import CallWarning
from tests.faults.acts import COUNTS, act, report, ring, seen, shape, status, stored  # noqa: F401
from tests.faults.shape import wait_until

LOCK = "rq:scheduler-lock:{}"
RETRY = text("SELECT j.run_at FROM outbox_jobs j JOIN warnings w ON j.args->>'warning_id' = w.id::text "
             "JOIN calls c ON c.id = w.call_id WHERE c.call_sid = :sid AND j.status IN ('pending', 'enqueued') AND j.attempts = 1")
SOON_S = 5  # a sweep (1 s apart here) and one job's run


def _lock_owner(shape) -> bytes | None:
    """The RQ scheduler (its name) holding the lock of both queues; None if none holds both."""
    connection = redis.Redis.from_url(shape.redis_url)
    owners = {connection.get(LOCK.format(queue)) for queue in ("callguard-urgent", "callguard")}
    return owners.pop() if len(owners) == 1 else None


def _scheduler_holder(shape) -> tuple[str, bytes] | None:
    """(the shape's name of the worker whose RQ scheduler holds the locks, the lock's owner), or None yet."""
    owner = _lock_owner(shape)
    pid = owner and redis.Redis.from_url(shape.redis_url).hget(b"rq:scheduler:" + owner, "pid")
    group = os.getpgid(int(pid)) if pid and int(pid) else None  # the scheduler is forked by its worker
    name = next((n for n, proc in shape.procs.items() if n.startswith("worker") and proc.pid == group), None)
    return (name, owner) if name and owner else None


def _retry_due(shape, sid):
    with shape.engine.connect() as conn:
        return conn.execute(RETRY, {"sid": sid}).scalar()


def test_a_due_retry_runs_within_seconds_when_the_worker_holding_rqs_scheduler_lock_was_killed(shape):
    holder, owner = wait_until(lambda: _scheduler_holder(shape), 30, "a worker holding RQ's scheduler lock")
    shape.kill(holder)  # kill -9: its lock stays in Redis until its TTL (a minute) runs out
    COUNTS["faults_injected"] += 1
    sid = ring(shape)
    shape.standin.fail_next("503")  # the warning's first attempt fails: the outbox schedules a retry
    COUNTS["faults_injected"] += 1
    act(shape, sid, "warning")
    run_at = as_utc(wait_until(lambda: _retry_due(shape, sid), 20, "the retry scheduled"))
    wait_until(lambda: status(shape, CallWarning, sid) == "played",
               (run_at - utcnow()).total_seconds() + SOON_S, f"the retry within {SOON_S} s of its run_at")
    assert (utcnow() - run_at).total_seconds() < SOON_S
    assert _lock_owner(shape) == owner  # the dead scheduler still held RQ's lock all along: it was not needed
    assert stored(shape, CallWarning, sid) == 1
    assert len(seen(shape, sid, 1)) == 1  # played once
    assert [(r["method"], r["status"]) for r in shape.standin.log if r["sid"] == sid] == [("POST", 503), ("POST", 200)]


def test_counts_report():
    report("scheduler-holder")
