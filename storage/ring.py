"""PostgreSQL's ring statement (R1, R10, C2, C3 at ring time): one data-modifying CTE that inserts
the call and reads every flag (call_flows.calls.ring.FLAGS_SELECT), sent straight to psycopg as a
server-side prepared statement (parsed and planned once per connection), rows as plain dicts:
SQLAlchemy's execution layer costs more than the query. One round trip per ring.

With a live RingSnapshot (storage/ring_listener.py) the flags come from memory and the statement only
inserts the call, with the flags it already knows stored on the row, and counts the caller's calls
today (C2: exact across processes, the database counts them). Still one round trip, and no second
one to store a flagged caller's flags."""
import json
import re
from collections.abc import Mapping

from psycopg.rows import dict_row
from sqlalchemy.engine import Connection

from call_flows.calls.ring import CALL_INSERT, FLAGS_SELECT, RingStatement, portable_ring, repeat_signals
from call_flows.calls.ring_snapshot import RingSnapshot
from call_flows.settings import OrgSettings

PG_RING = f"WITH ins AS ({CALL_INSERT} RETURNING id) {FLAGS_SELECT}, (SELECT count(*) FROM ins) AS inserted"


def _pyformat(sql: str) -> str:
    """`:name` binds as psycopg's `%(name)s` (leaving `::type` casts alone)."""
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql.replace("%", "%%"))


PG_RING_DRIVER = _pyformat(PG_RING)  # built once (also what bench/ringtime.py EXPLAINs)


def prepared_ring(conn: Connection, params: dict) -> tuple[Mapping, bool]:
    """The ring statement on PostgreSQL, through the driver's own cursor (see the module's docstring)."""
    driver = conn.connection.driver_connection
    assert driver is not None  # a live pooled connection always has its psycopg connection
    cursor = driver.cursor(row_factory=dict_row)
    row = cursor.execute(PG_RING_DRIVER, params, prepare=True).fetchone()
    return row, bool(row["inserted"])


PG_RING_COUNT = _pyformat("""
WITH prior AS (SELECT count(*) AS n FROM calls c WHERE c.caller = :caller AND c.started_at >= :day_start
               AND c.direction = 'inbound'),
ins AS (
  INSERT INTO calls (call_sid, direction, caller, caller_kind, caller_raw, called, status, started_at,
                     ring_marker, ring_signals, ring_restricted)
  VALUES (:call_sid, 'inbound', :caller, :kind, :raw, :called, 'ringing', :now, :marker,
          CASE WHEN (SELECT n FROM prior) + 1 > :threshold THEN CAST(:signals_c2 AS json)
               WHEN :flagged THEN CAST(:signals AS json) END,
          CASE WHEN :flagged OR (SELECT n FROM prior) + 1 > :threshold THEN CAST(:restricted AS boolean) END)
  ON CONFLICT (call_sid) DO NOTHING
  RETURNING id)
SELECT (SELECT n FROM prior) AS calls_today, (SELECT count(*) FROM ins) AS inserted""")
"""The snapshot's statement: C2's count of the caller's calls today (before this one: every part of a
statement sees the same snapshot) and the call's insert with the flags as record_ring would store
them, C2's `many_calls_today` decided by that count. Written once, so no second round trip."""


def snapshot_ring(snapshot: RingSnapshot, settings: OrgSettings) -> RingStatement:
    """The ring statement with flags from `snapshot`: falls back to `prepared_ring` (the query) for any
    ring the snapshot cannot answer (listener down, R10 window before its horizon). The row carries
    `stored`: the (marker, signals, restricted) written with the call, or None when nothing was."""
    def statement(conn: Connection, params: dict) -> tuple[Mapping, bool]:
        known = snapshot.flags(params["caller"], params["now"], params["since"])
        if known is None:
            return prepared_ring(conn, params)
        signals = repeat_signals(known["warnings"], known["terminations"], -1, settings)  # R10 (C2 in SQL:
        # with -1 calls its threshold, at least 1, is never passed here)
        flagged = bool(known["marker"] or known["restriction_id"] or signals)
        restricted = bool(known["restriction_id"])
        bound = {**params, "marker": known["marker"], "restricted": restricted, "flagged": flagged,
                 "threshold": settings.calls_per_day_threshold, "signals": json.dumps(signals),
                 "signals_c2": json.dumps([*signals, "many_calls_today"])}
        driver = conn.connection.driver_connection
        assert driver is not None
        row = driver.cursor(row_factory=dict_row).execute(PG_RING_COUNT, bound, prepare=True).fetchone()
        c2 = row["calls_today"] + 1 > settings.calls_per_day_threshold
        stored = (known["marker"], [*signals, "many_calls_today"] if c2 else signals, restricted)
        return {**known, **row, "stored": stored if flagged or c2 else None}, bool(row["inserted"])
    return statement


def ring_statement(conn: Connection, snapshot: RingSnapshot | None = None,
                   settings: OrgSettings | None = None) -> RingStatement:
    """The fastest ring statement this connection's database runs: on PostgreSQL the snapshot's when
    there is one, else the prepared query; elsewhere the portable one."""
    if conn.dialect.name != "postgresql":
        return portable_ring
    if snapshot is not None and settings is not None:
        return snapshot_ring(snapshot, settings)
    return prepared_ring
