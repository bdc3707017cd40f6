"""Many values as one bound parameter (issue 13 item 4). On PostgreSQL a list goes as one array, so a
statement's text is the same whatever the number of values: SQLAlchemy compiles it once, the driver
parses it once, PostgreSQL can keep its plan. An expanding `IN (...)` list or a `VALUES` list of
500 values is another statement each time, compiled, parsed and planned again (measurable on the
board's snapshot). Elsewhere (SQLite) the portable forms."""
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, TextClause, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session


def on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def int_in(session: Session, column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None], name: str,
           values: Sequence[int]) -> ColumnElement[bool]:
    """`column IN values` as `column = ANY(:name)` with one integer array on PostgreSQL."""
    if on_postgresql(session):
        return column == any_(bindparam(name, list(values), type_=ARRAY(Integer)))
    return column.in_(list(values))


def rows_cte(session: Session, name: str, columns: Sequence[tuple[str, str]],
             rows: Sequence[Sequence[Any]]) -> tuple[str, dict[str, Any]]:
    """A CTE `name(col, ...)` of `rows` (not empty) for a text() statement's WITH, and its parameters.
    `columns`: (name, PostgreSQL type); on PostgreSQL one array per column, unnested together."""
    names = ", ".join(c for c, _ in columns)
    if on_postgresql(session):
        arrays = ", ".join(f"CAST(:{name}_{c} AS {t}[])" for c, t in columns)
        return (f"{name}({names}) AS (SELECT * FROM unnest({arrays}))",
                {f"{name}_{c}": [row[i] for row in rows] for i, (c, _) in enumerate(columns)})
    values = ", ".join("(" + ", ".join(f":{name}{r}_{c}" for c, _ in columns) + ")" for r in range(len(rows)))
    return (f"{name}({names}) AS (VALUES {values})",
            {f"{name}{r}_{c}": row[i] for r, row in enumerate(rows) for i, (c, _) in enumerate(columns)})


@lru_cache(maxsize=64)
def cached_text(sql: str) -> TextClause:
    """text(sql), built once per statement text (text() parses its bind parameters with a regex)."""
    return text(sql)
