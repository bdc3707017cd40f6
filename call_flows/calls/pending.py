"""Calls that rang a moment ago may not have their row yet (issue 13: ring time writes the row behind,
storage/ring_journal.py). Whoever looks a call up by CallSid goes through `find_call`, which has the
waiting row stored first when the plain look-up finds nothing: an accept, a warning, a status callback
or a page for a call that rang 50 ms ago sees it as if ring time had written it at once.

The source is the session's `info["pending_calls"]` (a PendingCalls: app/db.py puts one in every
session; lean.start_snapshot gives it the journal in every process that builds the app on PostgreSQL
with Redis). Without one (the embedded default, tests) ring time writes rows at once and `find_call`
is the plain look-up."""
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.models import Call


class Source(Protocol):
    def store(self, session: Session, call_sid: str) -> None: ...


class PendingCalls:
    """The session's way to waiting rows; `source` is None until the journal starts."""

    def __init__(self) -> None:
        self.source: Source | None = None


def store_pending(session: Session, call_sid: str) -> bool:
    """Insert `call_sid`'s waiting row, if there is one, in `session`'s transaction. True when a
    second look may find the call: with a journal running, also when no row was waiting, since a
    flusher may have written it between the caller's first look and this one (it removes a row from
    Redis only once it is committed)."""
    holder = session.info.get("pending_calls")
    source = getattr(holder, "source", None)
    if not call_sid or source is None:
        return False
    source.store(session, call_sid)
    return True


def find_call(session: Session, call_sid: str) -> Call | None:
    """The call with `call_sid`, its waiting row stored first when it has not been written yet."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None and store_pending(session, call_sid):
        call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    return call
