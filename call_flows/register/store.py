"""Storing a checked spreadsheet register in one transaction (CONTRACT `register import`, R4, R6, R9).

Why bulk inserts: a 10,000-row register must load in seconds, so rows go in as a few multi-row
INSERT statements (SQLite) or COPY (PostgreSQL) rather than one ORM flush per row. The caller
owns the transaction: it commits only when `store` returns, so a file is stored whole or not at all.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Iterator

from sqlalchemy import FromClause, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from call_flows.errors import Conflict
from call_flows.models import AuditLog, Customer, CustomerPhone, RegisterEntry
from call_flows.register.merge import Entry, Person
from call_flows.register.spreadsheet import RowError
from call_flows.vocabulary import RegisterStatus

CHUNK = 1000  # rows per INSERT statement, and per progress report
LOOKUP_CHUNK = 500  # numbers per `IN (...)` lookup


@dataclass
class Stored:
    """What an import stored (or, on a dry run, would store)."""

    entries: int = 0
    numbers: int = 0
    customers: int = 0
    already_held: int = 0  # entries already on the register: left as they are
    errors: list[RowError] = field(default_factory=list)
    notes: list[RowError] = field(default_factory=list)


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=timezone.utc) if day else None


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def bulk_insert(session: Session, table: FromClause, rows: list[dict[str, Any]], with_ids: bool = False) -> list[int]:
    """INSERT many rows in the session's transaction; with `with_ids`, their new ids in the rows' order.

    SQLite: 1,000-row INSERT statements. Asking SQLAlchemy to keep RETURNING in order there makes it
    insert one row per statement, but SQLite hands out rowids in ascending order under the
    transaction's write lock, so sorting the returned ids restores the order.
    PostgreSQL: COPY, with ids taken from the table's sequence first (the database driver spends
    seconds parsing multi-row INSERTs of this size).
    """
    assert isinstance(table, Table)  # a mapped class's __table__, typed only as a FromClause
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        from storage.copy import copy_rows  # PostgreSQL's COPY through the driver: the storage adapter

        return copy_rows(session, table, rows, with_ids)
    if with_ids:
        return sorted(session.execute(insert(table).returning(table.c.id), rows).scalars().all())
    session.execute(insert(table), rows)
    return []


def _known_numbers(session: Session, numbers: list[str]) -> dict[str, int]:
    known: dict[str, int] = {}
    for chunk in _chunks(numbers, LOOKUP_CHUNK):
        known.update(session.execute(select(CustomerPhone.phone, CustomerPhone.customer_id)
                                     .where(CustomerPhone.phone.in_(chunk))).all())
    return known


def _held_decisions(session: Session, customer_ids: list[int]) -> set[tuple[Any, ...]]:
    """(customer, marker, date added, source) of every entry in force, to skip what is already held."""
    held = set()
    for chunk in _chunks(customer_ids, LOOKUP_CHUNK):
        for cid, marker, added_on, source in session.execute(
                select(RegisterEntry.customer_id, RegisterEntry.marker, RegisterEntry.added_on, RegisterEntry.source)
                .where(RegisterEntry.customer_id.in_(chunk), RegisterEntry.status == RegisterStatus.IN_FORCE)):
            held.add((cid, marker, added_on.date() if added_on else None, source))
    return held


def store(session: Session, people: list[Person], now: datetime, dry_run: bool = False,
          actor_id: int | None = None, progress: Callable[[int, int], None] | None = None,
          **detail: Any) -> Stored:
    """Store checked people, or report why not (`errors`, then nothing is written).

    A person whose numbers are already on the register joins that customer; an entry that customer
    already holds (same marker, date added and source) is left unchanged, since changing an entry
    is a review (R6), not an import. Numbers held by two different customers are refused.
    """
    result = Stored()
    known = _known_numbers(session, sorted({n for p in people for n in p.phones}))
    existing: list[tuple[int, Person]] = []
    fresh: list[Person] = []
    for person in people:
        owners = sorted({known[n] for n in person.phones if n in known})
        if len(owners) > 1:
            result.errors.append(RowError(person.lines[0], "its numbers belong to different customers already "
                                          "on the register (" + ", ".join(n for n in person.phones if n in known)
                                          + "); merge them there first"))
        elif owners:
            existing.append((owners[0], person))
        else:
            fresh.append(person)
    if result.errors:
        return result
    held = _held_decisions(session, [cid for cid, _ in existing])
    plan: list[tuple[int | None, Person, list[str], list[Entry]]] = []  # customer id (None: new), new numbers, new entries
    for cid, person in existing:
        entries = []
        for entry in person.entries:
            if (cid, entry.marker, entry.added_on, entry.source) in held:
                result.already_held += 1
                result.notes.append(RowError(entry.lines[0], "already on the register: left unchanged"))
            else:
                entries.append(entry)
        plan.append((cid, person, [n for n in person.phones if n not in known], entries))
    plan += [(None, person, person.phones, person.entries) for person in fresh]
    result.customers = len(fresh)
    result.numbers = sum(len(numbers) for _, _, numbers, _ in plan)
    result.entries = sum(len(entries) for _, _, _, entries in plan)
    if dry_run:
        return result
    try:
        _write(session, plan, now, actor_id, progress, detail)
    except IntegrityError:
        session.rollback()
        raise Conflict("the register changed while importing (a number was added meanwhile); nothing was "
                       "stored: try again", code="register_changed") from None
    return result


def _write(session: Session, plan: list[Any], now: datetime, actor_id: int | None,
           progress: Callable[[int, int], None] | None, detail: dict[str, Any]) -> None:
    """Insert customers, then numbers and entries (RETURNING ids for R9's audit rows)."""
    new = [item for item in plan if item[0] is None]
    ids: list[int] = []
    for chunk in _chunks(new, CHUNK):
        ids += bulk_insert(session, Customer.__table__,
                     [{"name": person.name, "created_at": now} for _, person, _, _ in chunk], with_ids=True)
    new_ids = iter(ids)
    resolved = [(cid if cid is not None else next(new_ids), numbers, entries) for cid, _, numbers, entries in plan]
    phones = [{"customer_id": cid, "phone": n} for cid, numbers, _ in resolved for n in numbers]
    entries = [(cid, e) for cid, _, es in resolved for e in es]
    total, done = len(phones) + len(entries), 0
    for chunk in _chunks(phones, CHUNK):
        bulk_insert(session, CustomerPhone.__table__, chunk)
        done += len(chunk)
        if progress:
            progress(done, total)
    for chunk in _chunks(entries, CHUNK):
        rows = [{"customer_id": cid, "status": RegisterStatus.IN_FORCE, "marker": e.marker, "precautions": e.precautions,
                 "source": e.source, "notified": e.notified, "added_on": _midnight(e.added_on),
                 "last_reviewed_on": _midnight(e.last_reviewed_on),
                 "expires_at": e.expires_at, "created_at": now} for cid, e in chunk]
        entry_ids = bulk_insert(session, RegisterEntry.__table__, rows, with_ids=True)
        # R9: every entry created is in the audit log (as callers.audit writes it, in bulk).
        bulk_insert(session, AuditLog.__table__, [
            {"at": now, "actor_id": actor_id, "action": "create", "entity": "register_entry", "entity_id": eid,
             "detail": {"via": "import", "lines": e.lines, **detail}} for eid, (_, e) in zip(entry_ids, chunk, strict=True)])
        done += len(chunk)
        if progress:
            progress(done, total)
