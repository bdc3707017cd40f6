"""Issue 12 fault 3 on the production shape (tests/faults/shape.py): Redis down for a minute while
calls ring, warnings and terminations are pressed and a manager dials a callback. Ring time answers
TwiML throughout; every act pressed is stored (and dialling is accepted and stored); every side
effect happens once Redis is back, none twice. `FAULTS_REDIS_DOWN_S` shortens the outage (default
60 s, the issue's minute; e.g. 5 for a quick local run)."""
import os
import time

from sqlalchemy import func, select

from call_flows.models import Call, CallbackTask, CallWarning, Termination
from tests.faults.acts import ANSWER_BUDGET_S, COUNTS, MANAGER_PHONE, act, one, report, ring, seen, shape, status, stored  # noqa: F401
from tests.faults.shape import wait_until

REDIS_DOWN_S = float(os.environ.get("FAULTS_REDIS_DOWN_S", "60"))
PACE_S = 1.0  # one call rings (and one act is pressed) a second while Redis is down: traffic, not a wait


def _callback_task(shape) -> int:
    """A call ended before the outage (T3): its callback task (T5), claimed by the manager."""
    sid = ring(shape)
    act(shape, sid, "termination")
    wait_until(lambda: status(shape, Termination, sid) == "played", what="the notice before the outage")
    assert stored(shape, Termination, sid) == 1 and len(seen(shape, sid, 1)) == 1
    task_id = wait_until(lambda: one(shape, select(CallbackTask.id).join(Call, Call.id == CallbackTask.call_id)
                                     .where(Call.call_sid == sid)), what="the callback task")
    assert shape.api("POST", f"/callbacks/{task_id}/claim", shape.manager).status_code == 200
    return task_id


def _placed_callbacks(shape) -> list[dict]:
    """New calls Twilio was asked to place to the manager's phone (a callback rings them first)."""
    return [r for r in shape.standin.log if r["method"] == "POST" and r["path"].endswith("/Calls.json")
            and r["form"].get("To") == MANAGER_PHONE and r["status"] == 201]


def test_fault3_redis_down_a_minute_while_calls_ring_acts_are_pressed_and_a_manager_dials(shape):
    task_id = _callback_task(shape)
    shape.kill("redis")
    COUNTS["faults_injected"] += 1
    pressed: dict[str, str] = {}  # CallSid -> the act pressed on it (one per call)
    rung, dialled = 0, None
    down_until = time.monotonic() + REDIS_DOWN_S
    while time.monotonic() < down_until or dialled is None:
        next_at = time.monotonic() + PACE_S
        sid = ring(shape)  # ring time answers TwiML with Redis down
        rung += 1
        pressed[sid] = "warning" if rung % 2 else "termination"
        act(shape, sid, pressed[sid], within=ANSWER_BUDGET_S)
        if dialled is None and time.monotonic() > down_until - REDIS_DOWN_S / 2:
            dial = shape.api("POST", f"/callbacks/{task_id}/dial", shape.manager)
            assert dial.status_code == 202, dial.text  # accepted and stored while Redis is down
            dialled = one(shape, select(Call.status).where(Call.id == CallbackTask.dial_call_id,
                                                           CallbackTask.id == task_id))
            assert dialled == "queued"
        time.sleep(max(0.0, next_at - time.monotonic()))
    model = {"warning": CallWarning, "termination": Termination}
    assert {status(shape, model[kind], sid) for sid, kind in pressed.items()} == {"pending"}
    assert _placed_callbacks(shape) == [] and not any(shape.standin.landed(sid) for sid in pressed)
    shape.start_redis()

    def settled() -> bool:
        shape.revive()  # a supervisor restarts the workers and the scheduler that gave up on Redis
        return all(status(shape, model[kind], sid) == "played" for sid, kind in pressed.items())

    wait_until(settled, 120, "every act played after Redis is back")
    wait_until(lambda: _placed_callbacks(shape), 30, "the callback placed after Redis is back")
    for sid, kind in pressed.items():
        assert stored(shape, model[kind], sid) == 1
        assert len(seen(shape, sid, 1)) == 1  # once each, never twice
    COUNTS["acts_pressed"] += 1  # the dial
    COUNTS["acts_stored"] += one(shape, select(func.count(Call.id)).where(Call.direction == "callback"))
    COUNTS["effects_expected"] += 1
    COUNTS["effects_seen"] += len(_placed_callbacks(shape))
    assert len(_placed_callbacks(shape)) == 1
    print("redis-outage", {"down_s": REDIS_DOWN_S, "calls_rung": rung + 1, "acts": len(pressed), "restarts": shape.restarts})


def test_counts_report():
    report("redis-outage")
