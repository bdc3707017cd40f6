"""Reminders to the review panel (R6 reviews due, R6 register review, R5 letters overdue, R3 meetings
overdue), made by the periodic tick in bounded batches (issue 13 item 5).

A reminder is kept once per thing and due date by its key (`register_reminders.key`), and each new
one is emailed once to every address of `recipient_review_panel` through the outbox (key
`register-<reminder key>-to-<address>`). A batch of up to `BATCH` reminders costs three statements
(reminders, deliveries, outbox jobs: `call_flows.jobs.bulk`); one tick makes at most `PER_TICK`, and
a larger backlog (e.g. after downtime or an import) carries on at the next tick, most overdue first.
"""
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from call_flows.jobs.bulk import insert_new, queue_emails
from call_flows.jobs.mail import addresses
from call_flows.models import RegisterReminder
from call_flows.settings import OrgSettings
from call_flows.vocabulary import Recipient

BATCH = 500  # reminders per insert: memory and statement size stay bounded whatever the backlog
PER_TICK = 500  # reminders made by one tick at most (about 0.25 s here); the rest at the next (their keys keep them once)

TEXT = {
    "review_due": "Register entry {entry_id} is due for its six-monthly review (R6).",
    "register_review_due": "The six-monthly review of the whole caution register is due (R6).",
    "letter_overdue": "The customer's letter for register entry {entry_id} is overdue: it was due in 2 working "
                      "days (R5). Record it as sent, or record a documented exemption.",
    "meeting_overdue": "The panel has not yet decided on proposal {entry_id}: it should meet within 5 days (R3).",
}


class Due(NamedTuple):
    """Something the panel should be reminded of: `key` is unique per thing and due date."""
    key: str
    kind: str
    entry_id: int | None
    due_at: datetime


def _email(reminder: Due, to: str) -> dict[str, Any]:
    text = TEXT[reminder.kind].format(entry_id=reminder.entry_id)
    return {"key": f"register-{reminder.key}-to-{to}", "purpose": "register_reminder", "recipient": Recipient.REVIEW_PANEL,
            "to": to, "subject": "Caution register: " + text[:120],
            "body": text + f"\n\nDue: {reminder.due_at:%d %B %Y %H:%M} UTC.",
            "link": f"/register/entries/{reminder.entry_id}" if reminder.entry_id else "/register"}


def make(session: Session, batch: list[Due], now: datetime, settings: OrgSettings | None = None) -> list[Due]:
    """Record the reminders of `batch` whose key is new and queue their emails; returns the new ones.
    A key recorded already (an earlier tick, or another worker at the same moment) is left alone."""
    rows = [{"key": d.key, "kind": d.kind, "entry_id": d.entry_id, "due_at": d.due_at, "created_at": now}
            for d in batch]
    new = {key for (key,) in insert_new(session, RegisterReminder, rows, "key")}
    made: list[Due] = []
    for d in batch:
        if d.key in new:
            made.append(d)
            new.discard(d.key)  # the same key twice in a batch (two letters of one entry) is one reminder
    to = addresses(settings.recipient_review_panel if settings is not None else "")
    queue_emails(session, [_email(d, address) for d in made for address in to], now)
    return made


def make_all(session: Session, due: Iterable[Due], now: datetime, settings: OrgSettings | None = None,
             per_tick: int = PER_TICK, batch: int | None = None) -> list[Due]:
    """Reminders for `due` (read lazily), `batch` (default BATCH) at a time, until `per_tick` new ones."""
    batch = batch or BATCH
    made: list[Due] = []
    items: Iterator[Due] = iter(due)
    while len(made) < per_tick:
        chunk = list(islice(items, min(batch, per_tick - len(made))))
        if not chunk:
            break
        made += make(session, chunk, now, settings)
    return made
