"""Issue 13 item 2: ring-time flags from each web process's snapshot (storage/ring_listener.py), tested
with separate processes: gunicorn serving `wsgi:app` (one sync worker each) on a PostgreSQL database
of their own, and this test process committing register entries, restrictions and terminations.

- a change committed here is seen at ring time by EVERY web process within 1 s (R1, C3, R10);
- calls today (C2) stay exact when one caller's rings alternate between two processes;
- a process started after a change serves its first ring correctly, its listener already connected;
- with its listener's connection killed (and not back), a process answers from the query.
Waits are "until the condition holds, within 1 s" (tests/faults/shape.wait_until), no other clock.
"""
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.faults.shape import fresh_database, wait_until
from tests.ring_procs import Web
from tests.per_worker import scratch_db

LISTENER = "callguard-ring-listener"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = fresh_database(PG_URL, scratch_db(PG_URL, "ring_procs"))
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO teams (id, name, site) VALUES (1, 'Team', 'Site')")
        conn.execute("INSERT INTO users (id, username, role, team_id, active) VALUES (1, 'h', 'call_handler', 1, true)")
        conn.execute("""INSERT INTO settings (key, value) VALUES ('calls_per_day_threshold', '3')""")  # C2
        yield url, conn


@pytest.fixture(scope="module")
def webs(db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webs")
    started = []
    try:
        for name in ("web_a", "web_b"):
            started.append(Web(db[0], tmp, name))
        yield started
    finally:
        for web in started:
            web.stop()


def _number() -> str:
    return "+447700" + str(uuid.uuid4().int % 1_000_000).zfill(6)


def _customer(conn, number: str) -> int:
    cid = conn.execute("INSERT INTO customers (name, created_at) VALUES ('c', now()) RETURNING id").fetchone()[0]
    conn.execute("INSERT INTO customer_phones (customer_id, phone) VALUES (%s, %s)", (cid, number))
    return cid


def _add_entry(conn, cid: int, marker: int = 2) -> None:  # R1: an in-force register entry
    conn.execute("""INSERT INTO register_entries (customer_id, status, marker, source, notified, added_on,
                        last_reviewed_on, expires_at, created_at)
                    VALUES (%s, 'in_force', %s, 'own', true, now(), now(), now() + interval '1 year', now())""",
                 (cid, marker))


def _flags(conn, sid: str):
    return conn.execute("SELECT ring_marker, ring_restricted, ring_signals FROM calls WHERE call_sid = %s",
                        (sid,)).fetchone()


def _seen_within_1s(web: Web, conn, number: str, check) -> None:
    """Rings `web` (a new CallSid each time) until the stored ring-time flags pass `check`, within 1 s."""
    wait_until(lambda: check(_flags(conn, web.ring(number))), 1.0, f"{web.base} to see the change at ring time")


def _listeners(conn) -> int:
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = "
                        "current_database()", (LISTENER,)).fetchone()[0]


def test_13_entry_restriction_termination_and_removal_seen_by_every_process_within_1s_r1_c3_r10(db, webs):
    conn = db[1]
    assert _listeners(conn) == 2  # each web process listens
    number = _number()
    cid = _customer(conn, number)
    for web in webs:  # known to both snapshots first: not flagged
        assert _flags(conn, web.ring(number))[0] is None
    _add_entry(conn, cid, marker=2)  # R1
    for web in webs:
        _seen_within_1s(web, conn, number, lambda f: f[0] == 2)
    conn.execute("INSERT INTO restrictions (customer_id, kind, status, created_at) "
                 "VALUES (%s, 'written_only', 'active', now())", (cid,))  # C3
    for web in webs:
        _seen_within_1s(web, conn, number, lambda f: f[1] is True)
    call_id = conn.execute("SELECT max(id) FROM calls WHERE caller = %s", (number,)).fetchone()[0]
    conn.execute("""INSERT INTO terminations (call_id, caller, reason, case_reference, terminated_by_id, created_at,
                        platform_status) VALUES (%s, %s, 'abuse', 'T-1', 1, now(), 'played')""", (call_id, number))
    for web in webs:  # R10: one termination in the window is a signal
        _seen_within_1s(web, conn, number, lambda f: "previous_termination" in (f[2] or []))
    conn.execute("UPDATE register_entries SET status = 'removed' WHERE customer_id = %s", (cid,))
    conn.execute("UPDATE restrictions SET status = 'ended' WHERE customer_id = %s", (cid,))
    for web in webs:  # a removal is seen too: no stale flags
        _seen_within_1s(web, conn, number, lambda f: f[0] is None and f[1] is not True)


def test_13_calls_today_stay_exact_when_rings_alternate_between_processes_c2(db, webs):
    conn = db[1]
    number = _number()
    _add_entry(conn, _customer(conn, number), marker=1)
    wait_until(lambda: all(_flags(conn, web.ring(number))[0] == 1 for web in webs), 1.0, "the entry at both")
    conn.execute("DELETE FROM calls WHERE caller = %s", (number,))  # counting starts here
    signals = [(_flags(conn, webs[n % 2].ring(number))[2] or []) for n in range(6)]
    assert ["many_calls_today" in s for s in signals] == [False, False, False, True, True, True]  # threshold 3
    unflagged = _number()  # C2 alone flags a call: stored as record_ring stores flags
    stored = [_flags(conn, webs[n % 2].ring(unflagged)) for n in range(5)]
    assert stored[:3] == [(None, None, None)] * 3
    assert stored[3:] == [(None, False, ["many_calls_today"])] * 2


def test_13_a_new_process_serves_its_first_ring_with_flags_committed_before_it_started(db, tmp_path):
    conn = db[1]
    number = _number()
    _add_entry(conn, _customer(conn, number), marker=3)
    before = _listeners(conn)
    web = Web(db[0], tmp_path, "web_new")
    try:
        assert _listeners(conn) == before + 1  # the snapshot was loaded before /healthz answered
        assert _flags(conn, web.ring(number))[0] == 3
    finally:
        web.stop()


def test_13_listener_down_ring_time_queries_the_database_never_stale_flags(db, tmp_path):
    conn = db[1]
    web = Web(db[0], tmp_path, "web_down", retry_s=120)  # it will not reconnect during the test
    try:
        number = _number()
        cid = _customer(conn, number)
        assert _flags(conn, web.ring(number))[0] is None
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database() "
            "AND backend_start > now() - interval '1 hour' ORDER BY backend_start DESC LIMIT 1", (LISTENER,))]
        before = _listeners(conn)
        conn.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
        _add_entry(conn, cid, marker=2)  # committed while the listener is gone: only the query knows it
        _seen_within_1s(web, conn, number, lambda f: f[0] == 2)
        assert pids[0] not in [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity")]
        assert _listeners(conn) == before - 1  # web_down's listener is still down: the query answered
    finally:
        web.stop()


def test_13_rings_are_answered_from_the_snapshot_not_a_query_per_ring(db, webs):
    """A register entry written with the triggers switched off (session_replication_role = replica, so no
    NOTIFY) is invisible at ring time: the flags come from memory. The query would have seen it."""
    conn = db[1]
    number = _number()
    cid = _customer(conn, number)
    for web in webs:
        _seen_within_1s(web, conn, number, lambda f: f[0] is None)  # the number is known to both snapshots
    with psycopg.connect(make_url(db[0]).set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as quiet:
        quiet.execute("SET session_replication_role = replica")
        _add_entry(quiet, cid, marker=1)
    assert [_flags(conn, web.ring(number))[0] for web in webs] == [None, None]
