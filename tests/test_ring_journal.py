"""Issue 13 items 1-2: ring time without a PostgreSQL round trip (storage/ring_journal.py), tested with
separate processes: gunicorn serving `wsgi:app` (one sync worker each) on a PostgreSQL database and a
redis-server of this module's own (so it can be stopped and restarted), this test process ringing,
reading the database and sending Twilio's status callbacks, all signed with RequestValidator.

- C2's calls today stay exact when one caller rings both processes at once (Redis counts);
- a ring not yet written is found by a status callback or an accept at once (stored on demand);
- a process killed with rows still waiting loses none: another process's flusher writes them;
- Redis stopped: rings are written to the database; when it answers again the day's counts are
  rebuilt and include those rings; Redis restarted empty: the same, and a status callback recreates
  a call whose waiting row Redis lost.
"""
import os
import signal
import subprocess
import threading
import uuid

import psycopg
import pytest
from redis import Redis
from sqlalchemy.engine import make_url

from call_flows.clock import local_date, utcnow
from storage.ring_journal_wire import PENDING, day_key
from tests.conftest import PG_URL
from tests.faults.shape import free_port, fresh_database, wait_until
from tests.ring_procs import Web
from tests.per_worker import scratch_db

HOLD = {"CALLGUARD_RING_JOURNAL_EVERY_S": "600", "CALLGUARD_RING_JOURNAL_BATCH_S": "600"}  # rows stay waiting


class RedisServer:
    """A redis-server of the test's own, without persistence (a restart forgets everything)."""

    def __init__(self, tmp):
        self.port, self.tmp = free_port(), tmp
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.tmp)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: Redis.from_url(self.url).ping(), 10, "redis-server to start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def db():
    url = fresh_database(PG_URL, scratch_db(PG_URL, "ring_journal"))
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO teams (id, name, site) VALUES (1, 'Team', 'Site')")
        conn.execute("INSERT INTO users (id, username, role, team_id, active) VALUES (1, 'h', 'call_handler', 1, true)")
        conn.execute("INSERT INTO settings (key, value) VALUES ('calls_per_day_threshold', '3')")  # C2
        yield url, conn


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def _number() -> str:
    return "+447700" + str(uuid.uuid4().int % 1_000_000).zfill(6)


def _row(conn, sid: str):
    return conn.execute("SELECT ring_marker, ring_signals, status FROM calls WHERE call_sid = %s", (sid,)).fetchone()


def _stored(conn, sid: str):
    wait_until(lambda: _row(conn, sid) is not None, 10, f"{sid} to be written")
    return _row(conn, sid)


def _many(row) -> bool:
    return "many_calls_today" in (row[1] or [])


def test_13_calls_today_exact_when_one_caller_rings_two_processes_at_once_c2(db, redis_server, tmp_path):
    """Ten simultaneous rings from one number, five to each process: exactly the 4th to 10th are
    many_calls_today (threshold 3), whatever order they arrive in; every row is written."""
    conn = db[1]
    webs = [Web(db[0], tmp_path, f"web_{n}", redis_url=redis_server.url) for n in "ab"]
    try:
        number = _number()
        sids: list[str] = []
        lock = threading.Lock()

        def ring(web: Web) -> None:
            sid = web.ring(number)
            with lock:
                sids.append(sid)

        threads = [threading.Thread(target=ring, args=(webs[n % 2],)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows = [_stored(conn, sid) for sid in sids]
        assert sorted(_many(row) for row in rows) == [False] * 3 + [True] * 7
        assert conn.execute("SELECT count(*) FROM calls WHERE caller = %s", (number,)).fetchone()[0] == 10
    finally:
        for web in webs:
            web.stop()


def test_13_a_call_not_yet_written_is_found_by_its_status_callback_at_once(db, redis_server, tmp_path):
    conn = db[1]
    web = Web(db[0], tmp_path, "web_hold", redis_url=redis_server.url, extra=HOLD)
    try:
        number = _number()
        sid = web.ring(number)
        assert _row(conn, sid) is None and Redis.from_url(redis_server.url).hexists(PENDING, sid)  # written behind
        assert web.status(sid, number, "in-progress") == 204
        row = _row(conn, sid)
        assert row is not None and row[2] == "in-progress"  # stored from the journal, then moved on
        assert conn.execute("SELECT caller_kind FROM calls WHERE call_sid = %s", (sid,)).fetchone()[0] == "number"
    finally:
        web.stop()


def test_13_a_process_killed_with_rows_waiting_loses_none_another_writes_them_and_counts_them_c2(db, redis_server, tmp_path):
    conn = db[1]
    held = Web(db[0], tmp_path, "web_killed", redis_url=redis_server.url, extra=HOLD)
    number = _number()
    try:
        sids = [held.ring(number) for _ in range(3)]
        assert all(_row(conn, sid) is None for sid in sids)
    finally:
        held.stop(signal.SIGKILL)  # no goodbye: its rows wait in Redis
    other = Web(db[0], tmp_path, "web_other", redis_url=redis_server.url)
    try:
        assert _many(_stored(conn, other.ring(number)))  # a new process's first ring counts the three (C2)
        assert [_stored(conn, sid)[0] for sid in sids] == [None] * 3
        assert Redis.from_url(redis_server.url).hlen(PENDING) == 0
    finally:
        other.stop()


def test_13_redis_stopped_rings_go_to_the_database_and_are_counted_when_it_returns_c2(db, redis_server, tmp_path):
    """While Redis is stopped (SIGSTOP: it neither answers nor refuses), rings are written by the
    database path at once; when it answers again this process forgets the day's ready mark, the day is
    rebuilt from the database, and the next ring counts every earlier one (C2)."""
    conn = db[1]
    web = Web(db[0], tmp_path, "web_outage", redis_url=redis_server.url)
    try:
        number = _number()
        first = web.ring(number)
        _stored(conn, first)
        os.kill(redis_server.proc.pid, signal.SIGSTOP)
        try:
            during = [web.ring(number) for _ in range(2)]
            assert all(_row(conn, sid) is not None for sid in during)  # the database path: written at once
        finally:
            os.kill(redis_server.proc.pid, signal.SIGCONT)
        fourth = web.ring(number)  # three calls before it today: C2 (threshold 3)
        assert _many(_stored(conn, fourth))
        ready = day_key(local_date(utcnow()), "ready")
        wait_until(lambda: Redis.from_url(redis_server.url).exists(ready), 10, "the day rebuilt")
        assert _many(_stored(conn, web.ring(number)))
    finally:
        web.stop()


def test_13_redis_restarted_empty_counts_are_rebuilt_and_a_lost_row_is_recreated_by_its_status_callback(
        db, redis_server, tmp_path):
    conn = db[1]
    web = Web(db[0], tmp_path, "web_restart", redis_url=redis_server.url, extra=HOLD)
    try:
        number = _number()
        kept = [web.ring(number) for _ in range(2)]
        for sid in kept:  # written on demand (a status callback each), so the database has them
            assert web.status(sid, number, "in-progress") == 204
        lost = web.ring(number)  # waits in Redis only
        redis_server.stop()
        redis_server.start()  # empty: the waiting row and the day's counts are gone
        assert _row(conn, lost) is None
        assert web.status(lost, number, "completed") == 204  # Twilio's callback brings it back
        row = _row(conn, lost)
        assert row is not None and row[2] == "completed"
        fourth = web.ring(number)  # not ready: the database path counts the three calls before it
        assert _many(_stored(conn, fourth))
    finally:
        web.stop()
