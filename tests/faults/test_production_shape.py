"""Issue 12 faults 1, 2 and 5 on the production shape (tests/faults/shape.py): gunicorn, two
`rq worker` processes, `rq cron`, PostgreSQL, a Redis of its own and the HTTP Twilio stand-in that
keeps call state and sends signed status callbacks. Every invariant is read from the database and
the stand-in's record; every wait is for a condition."""
import time

import requests
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from call_flows.models import Call, CallbackTask, CallWarning, CaseNote, Incident, Termination
from tests.faults.acts import COUNTS, TERMINATE, act, count, one, report, ring, seen, shape, status, stored  # noqa: F401
from tests.prism import prism_url  # noqa: F401  (fixture: Prism serving Twilio's OpenAPI document)
from tests import twiml
from tests.faults.shape import ACCOUNT, wait_until


def _killed_while_twilio_holds(shape, kind: str, model, generation: str) -> str:
    """Press `kind` on a live call while Twilio holds its redirect (it lands; the answer never
    reaches the worker), kill -9 both workers, start two others; returns the call's sid once the
    act is settled `played` by one of them. (One of those killed held RQ's scheduler lock; no retry
    waits on it: test_scheduler_holder.py.)"""
    sid = ring(shape)
    shape.standin.fail_next("stall", value=20)
    act(shape, sid, kind)
    shape.standin.wait_for(lambda s: s.landed(sid), 20)
    for name in [n for n in list(shape.procs) if n.startswith("worker")]:
        shape.kill(name)
    COUNTS["faults_injected"] += 1
    assert status(shape, model, sid) == "pending"
    shape.start_worker(f"worker-{generation}1")
    shape.start_worker(f"worker-{generation}2")
    wait_until(lambda: status(shape, model, sid) == "played", 30, f"{kind} settled by another worker")
    assert stored(shape, model, sid) == 1
    return sid


def test_fault1_web_killed_right_after_201_for_a_termination_t3_everything_exists_once(shape):
    sid = ring(shape)
    first = act(shape, sid, "termination")
    shape.kill("web")  # kill -9 right after the 201
    COUNTS["faults_injected"] += 1
    shape.start_web()
    again = shape.api("POST", f"/calls/{sid}/termination", shape.headers, json=TERMINATE)  # the client retries
    assert again.status_code in (200, 201) and again.json()["id"] == first["id"]
    wait_until(lambda: status(shape, Termination, sid) == "played", what="final notice played")
    wait_until(lambda: one(shape, select(Call.status).where(Call.call_sid == sid)) == "completed",
               what="Twilio's status callback")
    case = one(shape, select(CaseNote.case_reference).join(Call, Call.id == CaseNote.call_id)
               .where(Call.call_sid == sid))
    assert [count(shape, m, sid) for m in (Termination, CaseNote, Incident)] == [1, 1, 1]
    assert one(shape, select(func.count(CallbackTask.id)).where(CallbackTask.case_reference == case)) == 1
    assert stored(shape, Termination, sid) == 1
    notices = seen(shape, sid, 1)
    assert len(notices) == 1 and twiml.has(notices[0]["form"]["Twiml"], "Hangup")


def _row_lockable(shape, sid) -> bool:
    """Another session locks the warning's job, the warning and the call at once (NOWAIT)."""
    with Session(shape.engine) as session:
        session.execute(text("SET lock_timeout = '100ms'"))
        call_id = session.scalar(select(Call.id).where(Call.call_sid == sid).with_for_update(nowait=True))
        session.scalar(select(CallWarning.id).where(CallWarning.call_id == call_id).with_for_update(nowait=True))
        job = session.execute(text("SELECT status, attempts FROM outbox_jobs WHERE task LIKE '%play_warning' "
                                   "AND args->>'warning_id' = (SELECT id::text FROM warnings WHERE call_id = :c) "
                                   "FOR UPDATE NOWAIT"), {"c": call_id}).one()
        session.rollback()
    return tuple(job) == ("running", 1)


def test_fault5_a_10s_twilio_stall_holds_no_row_lock_and_no_web_thread_and_lands_once(shape):
    stalled, other = ring(shape), ring(shape)
    shape.standin.fail_next("stall", value=10)
    COUNTS["faults_injected"] += 1
    started = time.monotonic()
    act(shape, stalled, "warning", within=5)  # under half the stall: the press does not wait for Twilio
    shape.standin.wait_for(lambda s: s.landed(stalled), 10)  # Twilio holds the request from here on
    assert _row_lockable(shape, stalled)  # claimed in its own transaction: no lock across the REST call
    ring(shape)  # ring time is answered during the stall
    act(shape, other, "warning", within=5)  # another press answers, no web thread held by the stall ...
    wait_until(lambda: status(shape, CallWarning, other) == "played", 5, "the other warning")  # ... and plays
    assert time.monotonic() - started < 10  # all of that while the stall lasted
    wait_until(lambda: status(shape, CallWarning, stalled) == "played", 30, "the stalled warning settled")
    assert stored(shape, CallWarning, stalled) + stored(shape, CallWarning, other) == 2
    assert len(seen(shape, stalled, 1)) == 1 and len(seen(shape, other, 1)) == 1  # once, timed out or not


def test_fault5_a_dropped_connection_is_checked_then_sent_again_and_lands_once(shape):
    sid = ring(shape)
    shape.standin.fail_next("drop")
    COUNTS["faults_injected"] += 1
    act(shape, sid, "warning")
    wait_until(lambda: status(shape, CallWarning, sid) == "played", 30, "warning after the dropped connection")
    assert stored(shape, CallWarning, sid) == 1
    assert len(seen(shape, sid, 1)) == 1
    # the request was sent and never answered: the retry asked Twilio (not updated since), then sent it
    assert [(r["method"], r["status"]) for r in shape.standin.log if r["sid"] == sid] == [
        ("POST", "drop"), ("GET", 200), ("POST", 200)]


def test_fault2_worker_killed_while_twilio_holds_the_warning_t1_heard_at_most_once(shape):
    sid = _killed_while_twilio_holds(shape, "warning", CallWarning, "b")
    assert len(seen(shape, sid, 1)) == 1  # once: the next worker asked Twilio (GET: date_updated moved)
    assert [r["method"] for r in shape.standin.log if r["sid"] == sid] == ["POST", "GET"]


def test_fault2_worker_killed_while_twilio_holds_the_final_notice_t3_played_once_and_recorded(shape):
    sid = _killed_while_twilio_holds(shape, "termination", Termination, "c")
    notices = seen(shape, sid, 1)
    assert len(notices) == 1 and twiml.has(notices[0]["form"]["Twiml"], "Hangup")  # the final notice at most once
    assert [r["method"] for r in shape.standin.log if r["sid"] == sid] == ["POST", "GET"]  # completed: not resent


def test_every_request_the_standin_answered_is_one_twilio_accepts(shape, prism_url):
    """The stand-in's record replayed to Prism (Twilio's OpenAPI document, as tests/test_twilio_prism.py):
    every request the service sent during the faults above is valid for Twilio (no 4xx from Prism)."""
    assert any(r["method"] == "POST" for r in shape.standin.log)
    for request in shape.standin.log:
        answer = requests.request(request["method"], prism_url + request["path"], data=request["form"] or None,
                                  auth=(ACCOUNT, "token"), timeout=10)
        assert 200 <= answer.status_code < 300, (request["method"], request["path"], answer.text[:300])


def test_counts_report():
    report("production-shape")
