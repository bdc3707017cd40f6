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


PG_RING_COUNT = _pyformat(
    CALL_INSERT.replace("started_at)", "started_at, ring_marker, ring_signals, ring_restricted)")
    .replace(":now)", ":now, :marker, CAST(:signals AS json), :restricted)")
    .join(["WITH ins AS (", " RETURNING id) "])
    + "SELECT (SELECT count(*) FROM calls c WHERE c.caller = :caller AND c.started_at >= :day_start) AS calls_today, "
      "(SELECT count(*) FROM ins) AS inserted")


def snapshot_ring(snapshot: RingSnapshot, settings: OrgSettings) -> RingStatement:
    """The ring statement with flags from `snapshot`: falls back to `prepared_ring` (the query) for any
    ring the snapshot cannot answer (listener down, R10 window before its horizon). The row carries
    `stored`: the (marker, signals, restricted) written with the call, or None (record_ring stores
    the flags itself when they differ, e.g. C2's many_calls_today, known only after the count)."""
    def statement(conn: Connection, params: dict) -> tuple[Mapping, bool]:
        known = snapshot.flags(params["caller"], params["now"], params["since"])
        if known is None:
            return prepared_ring(conn, params)
        signals = [s for s in repeat_signals(known["warnings"], known["terminations"], 0, settings)
                   if s != "many_calls_today"]  # C2 is known after the count
        stored = (known["marker"], signals, bool(known["restriction_id"]))
        flagged = bool(known["marker"] or known["restriction_id"] or signals)
        bound = {**params, "marker": stored[0] if flagged else None, "restricted": stored[2] if flagged else None,
                 "signals": json.dumps(signals) if flagged else None}
        driver = conn.connection.driver_connection
        assert driver is not None
        row = driver.cursor(row_factory=dict_row).execute(PG_RING_COUNT, bound, prepare=True).fetchone()
        return {**known, **row, "stored": stored if flagged else None}, bool(row["inserted"])
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
