"""Bulk rows into PostgreSQL by COPY (the register import, CONTRACT `register import`): driver-level
code, so it lives with the storage adapters, outside the domain (issue 11)."""
import json
from typing import Any

from sqlalchemy import JSON, Table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def copy_rows(session: Session, table: Table, rows: list[dict[str, Any]], with_ids: bool) -> list[int]:
    """PostgreSQL: the rows by COPY on the session's connection, with ids taken from the table's
    sequence first when `with_ids` (their new ids, in the rows' order). The driver's integrity error
    is raised as SQLAlchemy's IntegrityError, as an INSERT would raise it."""
    conn = session.connection()
    ids: list[int] = []
    if with_ids:
        ids = list(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                {"t": table.name, "n": len(rows)}).scalars())
        rows = [{"id": new_id, **row} for new_id, row in zip(ids, rows, strict=True)]
    columns = list(rows[0])
    as_json = {c.name for c in table.c if isinstance(c.type, JSON)}
    driver, dbapi = conn.connection.driver_connection, conn.dialect.dbapi
    assert driver is not None and dbapi is not None  # a live pooled connection has its psycopg connection
    try:
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(row[c]) if c in as_json else row[c] for c in columns])
    except dbapi.IntegrityError as exc:  # the driver's own error: give it SQLAlchemy's type
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc
    return ids
