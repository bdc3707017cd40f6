"""R9 "who viewed an entry is logged": what each person was shown of the caution register, as audit
rows keyed by the entry, so a subject-access export (register_privacy.subject_access) finds every
list, page, board and queue that showed the entry. The caller commits."""
from collections.abc import Iterable
from typing import Any
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.calls.callers import audit
from call_flows.clock import as_utc
from call_flows.models import AuditLog, CustomerPhone, RegisterEntry, User
from call_flows.vocabulary import RegisterStatus


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
    return _entries_behind(session, [(e164, marker)], now).get((e164, marker))


Shown = tuple[str | None, int | None]  # (number, marker) as a page showed them


def _entries_behind(session: Session, shown: list[Shown], now: datetime) -> dict[Shown, int]:
    """`entry_behind_marker` for many (number, marker) pairs in two queries: {(number, marker): entry id}."""
    numbers = list({e164 for e164, marker in shown if e164 and marker})
    if not numbers:
        return {}
    customers = dict(session.execute(select(CustomerPhone.phone, CustomerPhone.customer_id)
                                     .where(CustomerPhone.phone.in_(numbers))).all())
    entries = session.execute(select(RegisterEntry.id, RegisterEntry.customer_id, RegisterEntry.marker,
                                     RegisterEntry.status, RegisterEntry.expires_at)
                              .where(RegisterEntry.customer_id.in_(set(customers.values())))).all()
    by_customer: dict[int, list[Any]] = {}
    for e in entries:
        by_customer.setdefault(e.customer_id, []).append(e)
    found: dict[Shown, int] = {}
    for e164, marker in dict.fromkeys(shown):
        customer_id = customers.get(e164) if e164 else None
        mine = by_customer.get(customer_id, []) if marker and customer_id is not None else []
        in_force = sorted((e.marker, e.id) for e in mine if e.status == RegisterStatus.IN_FORCE and e.expires_at
                          and as_utc(e.expires_at) > now)
        latest = max((e.id for e in mine if e.marker == marker), default=None)
        entry_id = in_force[0][1] if in_force else latest
        if entry_id is not None:
            found[(e164, marker)] = entry_id
    return found


def markers_shown(session: Session, viewer: User, shown: list[tuple[str | None, int | None, datetime]],
                  now: datetime, via: str) -> None:
    """Markers shown on the board or the callback queue: (number, marker, since) for each row; the
    entry behind each (`entry_behind_marker`) is logged once per viewer since `since` (the call's
    start, or the task's), as `shown_once` does; a fixed number of queries however many rows."""
    behind = _entries_behind(session, [(e164, marker) for e164, marker, _ in shown], now)
    if not behind:
        return
    last_seen = dict(session.execute(
        select(AuditLog.entity_id, func.max(AuditLog.at)).where(
            AuditLog.actor_id == viewer.id, AuditLog.entity == "register_entry",
            AuditLog.entity_id.in_(set(behind.values()))).group_by(AuditLog.entity_id)).all())
    for e164, marker, since in shown:
        entry_id = behind.get((e164, marker))
        if entry_id is None:
            continue
        seen = last_seen.get(entry_id)
        if seen is None or as_utc(seen) < since:
            audit(session, viewer, "view", "register_entry", entry_id, now, via=via)
            last_seen[entry_id] = now
