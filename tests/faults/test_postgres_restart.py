"""Issue 12 fault 4, "PostgreSQL restarted", on the production shape (tests/faults/shape.py) against
a private PostgreSQL cluster started for this module only (tests/faults/cluster.py: its own port
and data directory; the machine's cluster is never touched), restarted (`pg_ctl restart -m fast`)
and stopped for a few seconds then started, while calls ring in a thread and acts are pressed.
Ring time answers TwiML within 2 s throughout (the fallback path, R1); a staff act during the
outage answers a clear 503 and stores nothing half; afterwards the service recovers without a
restart of its own, and every act stored is played once."""
import threading
import time

import pytest

from call_flows.models import CallWarning, CaseNote, Incident, Termination
from tests import twiml
from tests.faults.acts import COUNTS, TERMINATE, act, count, report, ring, seen, started_shape, status, stored
from tests.faults.cluster import Cluster
from tests.faults.shape import wait_until


@pytest.fixture(scope="module")
def cluster():
    running = Cluster()
    try:
        running.start()
        yield running
    finally:  # stopped and removed even when a test or the shape failed
        running.destroy()


@pytest.fixture(scope="module")
def shape(tmp_path_factory, cluster):
    yield from started_shape(tmp_path_factory, "pg_restart", cluster.url)


class Ringing:
    """Calls ring one after another in a thread while the block runs; each must answer TwiML within
    2 s (acts.ring). `rung`: how many did."""

    def __init__(self, shape):
        self.shape, self.rung, self.errors, self.done = shape, 0, [], threading.Event()
        self.thread = threading.Thread(target=self._ring, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def _ring(self):
        while not self.done.is_set():
            try:
                ring(self.shape, accept=False)
            except BaseException as exc:  # reported by __exit__, in the test's thread
                self.errors.append(exc)
                return
            self.rung += 1

    def __exit__(self, *exc_info):
        self.done.set()
        self.thread.join(10)
        assert not self.errors, self.errors
        assert self.rung > 0


def _alive(shape) -> bool:
    """Nothing was restarted: every process the shape started is still the one it started."""
    return shape.restarts == 0 and all(proc.poll() is None for proc in shape.procs.values())


def _played_once(shape, sid, model) -> None:
    wait_until(lambda: status(shape, model, sid) == "played", 30, f"{model.__name__} played")
    assert stored(shape, model, sid) == 1
    assert len(seen(shape, sid, 1)) == 1


def _press_after_restart(shape, sid) -> None:
    """A termination pressed right after the restart. The web process's pooled connections died with
    the server (no pre-ping, 9.16: no round trip per checkout): the first statement on one fails and
    invalidates the whole pool, so at most one request per process meets it. If that is this press,
    it is a clear 503 storing nothing, and the client's retry is stored; otherwise it is stored at once."""
    response = shape.api("POST", f"/calls/{sid}/termination", shape.headers, json=TERMINATE)
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "service_unavailable" and response.headers["Retry-After"]
        assert [count(shape, m, sid) for m in (Termination, CaseNote, Incident)] == [0, 0, 0]
        response = shape.api("POST", f"/calls/{sid}/termination", shape.headers, json=TERMINATE)
    COUNTS["acts_pressed"] += 1
    assert response.status_code == 201, response.text


def test_fault4_postgresql_restarted_ring_time_answers_and_acts_are_stored_and_played_once(shape, cluster):
    warned, terminated = ring(shape), ring(shape)
    with Ringing(shape) as ringing:
        act(shape, warned, "warning")  # its job may be on its way to Twilio when the server goes
        cluster.restart()  # pg_ctl restart -m fast: every pooled connection is terminated
        COUNTS["faults_injected"] += 1
        rung = ringing.rung
        _press_after_restart(shape, terminated)
        wait_until(lambda: ringing.rung > rung + 2, 10, "calls ringing after the restart")
    _played_once(shape, warned, CallWarning)
    _played_once(shape, terminated, Termination)
    assert [count(shape, m, terminated) for m in (Termination, CaseNote, Incident)] == [1, 1, 1]
    assert _alive(shape)


def test_fault4_postgresql_down_for_seconds_a_press_is_a_clear_503_nothing_half_then_recovers(shape, cluster):
    sid = ring(shape)
    with Ringing(shape) as ringing:
        cluster.stop()
        COUNTS["faults_injected"] += 1
        down, rung = time.monotonic(), ringing.rung
        response = shape.api("POST", f"/calls/{sid}/termination", shape.headers, json=TERMINATE)
        assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"
        assert response.headers["Retry-After"]  # a refused press is not an act pressed: it answered 503
        # a few seconds down, calls ringing all along (each answered TwiML within 2 s)
        wait_until(lambda: time.monotonic() - down > 3 and ringing.rung > rung + 3, 20, "calls ringing while down")
        cluster.start()
        rung = ringing.rung
        wait_until(lambda: ringing.rung > rung + 2, 10, "calls ringing after the start")
    assert [count(shape, m, sid) for m in (Termination, CaseNote, Incident)] == [0, 0, 0]  # nothing half
    act(shape, sid, "termination")  # the service recovered on its own: the same press is stored
    wait_until(lambda: status(shape, Termination, sid) == "played", 30, "final notice played")
    assert stored(shape, Termination, sid) == 1
    notices = seen(shape, sid, 1)
    assert len(notices) == 1 and twiml.has(notices[0]["form"]["Twiml"], "Hangup")
    assert [count(shape, m, sid) for m in (Termination, CaseNote, Incident)] == [1, 1, 1]
    assert _alive(shape)


def test_counts_report():
    report("pg-restart")
