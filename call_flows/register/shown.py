"""R9 "who viewed an entry is logged": what each person was shown of the caution register, as audit
rows keyed by the entry, so a subject-access export (register_privacy.subject_access) finds every
list, page, board and queue that showed the entry. The caller commits."""
import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, String, TextualSelect, column, select, text
from sqlalchemy.orm import Session

from call_flows.calls.callers import audit
from call_flows.clock import as_utc
from call_flows.many import on_postgresql, rows_cte
from call_flows.models import AuditLog, User
from call_flows.models.base import UTCDateTime


def entries_shown(session: Session, viewer: User | None, entry_ids: Iterable[int | None], now: datetime, via: str) -> None:
    """One `view` row per entry shown (a list shows many: each is logged, not just a count)."""
    for entry_id in dict.fromkeys(entry_ids):
        audit(session, viewer, "view", "register_entry", entry_id, now, via=via)


def shown_once(session: Session, viewer: User, entry_id: int, since: datetime, now: datetime, via: str) -> None:
    """Log a view unless this viewer's view of the entry is already logged since `since` (e.g. the
    call's start: a live page that refreshes every few seconds logs one view per call, not hundreds)."""
    seen = session.scalar(select(AuditLog.id).where(
        AuditLog.actor_id == viewer.id, AuditLog.entity == "register_entry", AuditLog.entity_id == entry_id,
        AuditLog.at >= since).limit(1))
    if seen is None:
        audit(session, viewer, "view", "register_entry", entry_id, now, via=via)


def entry_behind_marker(session: Session, e164: str | None, marker: int | None, now: datetime) -> int | None:
    """The register entry a marker shown for `e164` comes from: the entry in force with the most
    serious marker (as ring time reads it), else the customer's latest entry with that marker (an
    entry that has since ended, shown as ring time saw it)."""
    found = _entries_behind(session, [(e164, marker)], now).get((e164, marker))
    return found[0] if found else None


Shown = tuple[str | None, int | None]  # (number, marker) as a page showed them

# Per (number, marker): the entry in force with the most serious marker (as ring time reads it), else the
# customer's latest entry with that marker; and when the viewer's view of that entry was last logged
# (MATERIALIZED: each entry is found once, not again for the filter and the audit probe).
_BEHIND = """,
s AS MATERIALIZED (SELECT v.phone, v.marker, coalesce(
  (SELECT re.id FROM customer_phones cp JOIN register_entries re ON re.customer_id = cp.customer_id
    WHERE cp.phone = v.phone AND re.status = 'in_force' AND re.expires_at > :now ORDER BY re.marker, re.id LIMIT 1),
  (SELECT max(re.id) FROM customer_phones cp JOIN register_entries re ON re.customer_id = cp.customer_id
    WHERE cp.phone = v.phone AND re.marker = v.marker)) AS entry_id FROM v)
SELECT s.phone, s.marker, s.entry_id,
  (SELECT max(a.at) FROM audit_log a WHERE a.actor_id = :viewer AND a.entity = 'register_entry'
      AND a.entity_id = s.entry_id) AS last_seen
FROM s WHERE s.entry_id IS NOT NULL"""


@lru_cache(maxsize=64)
def _behind_statement(sql: str) -> TextualSelect:
    return text(sql).columns(column("phone", String), column("marker", Integer), column("entry_id", Integer),
                             column("last_seen", UTCDateTime()))


def _entries_behind(session: Session, shown: list[Shown], now: datetime,
                    viewer: User | None = None) -> dict[Shown, tuple[int, datetime | None]]:
    """`entry_behind_marker` for many (number, marker) pairs in one query: {(number, marker): (entry id,
    when `viewer`'s view of it was last logged, None if never or no viewer)}."""
    pairs = list(dict.fromkeys((e164, marker) for e164, marker in shown if e164 and marker))
    if not pairs:
        return {}
    cte, params = rows_cte(session, "v", [("phone", "text"), ("marker", "integer")], pairs)
    rows = session.execute(_behind_statement(f"WITH {cte}{_BEHIND}"),
                           {"now": now, "viewer": viewer.id if viewer else None, **params})
    return {(row.phone, row.marker): (row.entry_id, row.last_seen) for row in rows}


def markers_shown(session: Session, viewer: User, shown: list[tuple[str | None, int | None, datetime]],
                  now: datetime, via: str) -> None:
    """Markers shown on the board or the callback queue: (number, marker, since) for each row; the
    entry behind each (`entry_behind_marker`) is logged once per viewer since `since` (the call's
    start, or the task's), as `shown_once` does; one query however many rows, and the audit rows."""
    behind = _entries_behind(session, [(e164, marker) for e164, marker, _ in shown], now, viewer)
    entries_shown_once(session, viewer, [(behind.get((e164, marker)), since) for e164, marker, since in shown], now, via)


Behind = tuple[int, datetime | None]  # an entry behind a marker shown, and when the viewer's view was last logged


def entries_shown_once(session: Session, viewer: User, shown: list[tuple[Behind | None, datetime]], now: datetime,
                       via: str) -> None:
    """`markers_shown` once each row's entry is known: (the entry behind its marker and the viewer's
    last logged view of it, or None when no marker or entry; since) per row, in the order shown. An
    entry is logged unless its view is logged since `since`; twice on one page, once. The board reads
    the entries with its flags (call_flows.calls.board) and logs them here."""
    last_seen = {found[0]: found[1] for found, _ in shown if found is not None and found[1] is not None}
    logged: list[int] = []
    for found, since in shown:
        if found is None:
            continue
        entry_id = found[0]
        seen = last_seen.get(entry_id)
        if seen is None or as_utc(seen) < since:
            logged.append(entry_id)
            last_seen[entry_id] = now
    _views(session, viewer, logged, now, via)


_PG_VIEWS = text("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, detail) "
                 "SELECT :at, :actor, 'view', 'register_entry', e.id, CAST(:detail AS json) "
                 "FROM unnest(CAST(:ids AS integer[])) WITH ORDINALITY AS e(id, n) ORDER BY e.n")


def _views(session: Session, viewer: User, entry_ids: list[int], now: datetime, via: str) -> None:
    """`audit`'s `view` row for each entry, in order: on PostgreSQL one statement with the ids as one
    array (a board's first view logs hundreds; as ORM objects they cost more than the board's reads)."""
    if not entry_ids:
        return
    if not on_postgresql(session):
        for entry_id in entry_ids:
            audit(session, viewer, "view", "register_entry", entry_id, now, via=via)
        return
    session.execute(_PG_VIEWS, {"at": now, "actor": viewer.id, "ids": entry_ids, "detail": json.dumps({"via": via})})
