"""How many rows an UPDATE or DELETE changed, read from its result (SQLAlchemy types `Session.execute`'s
answer as a `Result`; for a data-modifying statement it is a `CursorResult`, which has `rowcount`)."""
from typing import Any, cast

from sqlalchemy import CursorResult, Result


def changed(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (0 when the driver reports none)."""
    return cast(CursorResult[Any], result).rowcount or 0
