"""Bulk writes for the periodic tick (issue 13 item 5): many rows in one statement, each row kept
once by its business key (`INSERT ... ON CONFLICT (key) DO NOTHING RETURNING`, PostgreSQL and
SQLite alike), so a backlog of reminders costs three statements per batch instead of a savepoint
and an insert per row, and re-running the tick adds nothing twice."""
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from call_flows.jobs import outbox
from call_flows.jobs.mail import record_link, send_email
from call_flows.models import EmailDelivery, OutboxJob


def insert_new(session: Session, model: type[Any], rows: list[dict[str, Any]], *returning: str) -> Sequence[Row[*tuple[Any, ...]]]:
    """Insert `rows` into `model`'s table except those whose `key` exists already; returns the
    `returning` columns (names) of the rows inserted, in no particular order. One statement per
    1,000 rows (SQLAlchemy's insertmanyvalues, compiled once and cached, not a new VALUES list)."""
    if not rows:
        return []
    table = model.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(*(table.c[n] for n in returning))
    return session.execute(statement, rows).all()


def queue_emails(session: Session, emails: list[dict[str, Any]], now: datetime) -> list[int]:
    """`mail.queue_email` for many emails at once: each dict has key, purpose, recipient, to, subject,
    body and link (and optionally incident_id, task_id). Records each delivery unless its key exists, and one `send_email` outbox job per
    delivery (same key, task named by its path like `mail.queue_email`'s), handed over after commit
    like `outbox.record`'s. Two statements (three
    when a delivery existed already). Returns the new outbox job ids."""
    if not emails:
        return []
    rows = [{"key": e["key"], "purpose": e["purpose"], "recipient": e["recipient"], "to_address": e["to"],
             "subject": e["subject"][:300], "status": "pending", "attempts": 0, "created_at": now,
             "incident_id": e.get("incident_id"), "task_id": e.get("task_id"),
             "body": e["body"].rstrip("\n") + f"\n\nOpen it in callguard: {record_link(session, e['link'])}\n"}
            for e in emails]
    ids: dict[str, int] = {row.key: row.id for row in insert_new(session, EmailDelivery, rows, "key", "id")}
    missing = [r["key"] for r in rows if r["key"] not in ids]
    if missing:  # recorded before (e.g. by a worker that lost a race): its job is still made once
        ids.update(session.execute(select(EmailDelivery.key, EmailDelivery.id)
                                   .where(EmailDelivery.key.in_(missing))).all())
    task = outbox.path_of(send_email)
    jobs = insert_new(session, OutboxJob, [
        {"key": key, "task": task, "args": {"delivery_id": ids[key]}, "run_at": now, "created_at": now,
         "status": "pending", "attempts": 0} for key in (r["key"] for r in rows)],
        "id", "task", "run_at", "attempts", "status")
    outbox.note_recorded(session, jobs)
    return sorted(job.id for job in jobs)
