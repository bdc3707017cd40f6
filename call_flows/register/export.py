"""The register as a spreadsheet (CONTRACT `register export`): the import's columns, for the entries in force.

Why a formula guard: the file is opened in spreadsheet software, and a name or precaution that
begins with `=`, `+`, `-` or `@` would run as a formula there (CSV injection). Such cells get a
leading `'`, which the import removes again, so an export imports unchanged. Phones are E.164 and
start with `+`, so they are guarded too (unguarded, a spreadsheet would also turn them into numbers
and drop the `+`). Exporting is viewing every entry, so each one is audited (R9).
"""
import csv
from datetime import datetime
from typing import IO, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.clock import local_date
from call_flows.models import AuditLog, Customer, CustomerPhone, RegisterEntry
from call_flows.register.spreadsheet import COLUMNS, FORMULA_START
from call_flows.register.store import bulk_insert
from call_flows.vocabulary import RegisterStatus

LOOKUP_CHUNK = 500


def guard(value: str) -> str:
    """Neutralise a cell a spreadsheet would read as a formula."""
    return "'" + value if value and value.startswith(FORMULA_START) else value


def in_force_rows(session: Session, now: datetime) -> tuple[list[list[str]], list[int]]:
    """One row per entry in force (status `in_force`, not past its R6 expiry), oldest entry first,
    with the entries' ids for the audit."""
    entries = session.execute(
        select(RegisterEntry.id, RegisterEntry.customer_id, Customer.name, RegisterEntry.marker,
               RegisterEntry.precautions, RegisterEntry.added_on, RegisterEntry.last_reviewed_on,
               RegisterEntry.source, RegisterEntry.notified)
        .join(Customer, Customer.id == RegisterEntry.customer_id)
        .where(RegisterEntry.status == RegisterStatus.IN_FORCE, RegisterEntry.expires_at > now)
        .order_by(RegisterEntry.id)).all()
    customer_ids = sorted({e.customer_id for e in entries})
    phones: dict[int, list[str]] = {}
    for start in range(0, len(customer_ids), LOOKUP_CHUNK):
        for cid, phone in session.execute(
                select(CustomerPhone.customer_id, CustomerPhone.phone)
                .where(CustomerPhone.customer_id.in_(customer_ids[start:start + LOOKUP_CHUNK]))
                .order_by(CustomerPhone.id)):
            phones.setdefault(cid, []).append(phone)
    rows = []
    for e in entries:
        rows.append([e.name or "", "; ".join(phones.get(e.customer_id, [])), str(e.marker or ""),
                     e.precautions or "", _day(e.added_on), _day(e.last_reviewed_on), e.source,
                     "yes" if e.notified else "no"])
    ids = [e.id for e in entries]
    return rows, ids


def _day(value: datetime | None) -> str:
    return local_date(value).isoformat() if value else ""  # the organisation's calendar date


def audit_export(session: Session, entry_ids: list[int], now: datetime, actor_id: int | None) -> None:
    """R9: who viewed an entry is logged; an export views them all."""
    for start in range(0, len(entry_ids), 1000):
        bulk_insert(session, AuditLog.__table__, [
            {"at": now, "actor_id": actor_id, "action": "view", "entity": "register_entry", "entity_id": eid,
             "detail": {"via": "export"}} for eid in entry_ids[start:start + 1000]])


def csv_lines(rows: list[list[str]]) -> Iterator[str]:
    """The CSV text, header first, every cell guarded; suitable for streaming a response."""

    class Line:
        value = ""

        def write(self, text: str) -> None:
            self.value = text

    line = Line()
    writer = csv.writer(line, lineterminator="\r\n")
    for row in [list(COLUMNS)] + rows:
        writer.writerow([guard(cell) for cell in row])
        yield line.value


def export(session: Session, out: IO[str], now: datetime, actor_id: int | None = None) -> int:
    """Write the register to `out` and audit it; returns the number of entries. The caller commits."""
    rows, ids = in_force_rows(session, now)
    for text in csv_lines(rows):
        out.write(text)
    audit_export(session, ids, now, actor_id)
    return len(rows)
