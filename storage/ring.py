"""PostgreSQL's ring statement (R1, R10, C2, C3 at ring time): one data-modifying CTE that inserts
the call and reads every flag (call_flows.calls.ring.FLAGS_SELECT), sent straight to psycopg as a
server-side prepared statement (parsed and planned once per connection), rows as plain dicts:
SQLAlchemy's execution layer costs more than the query. One round trip per ring."""
import re
from collections.abc import Mapping

from psycopg.rows import dict_row
from sqlalchemy.engine import Connection

from call_flows.calls.ring import CALL_INSERT, FLAGS_SELECT, RingStatement, portable_ring

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


def ring_statement(conn: Connection) -> RingStatement:
    """The fastest ring statement this connection's database runs: prepared on PostgreSQL, else portable."""
    return prepared_ring if conn.dialect.name == "postgresql" else portable_ring
