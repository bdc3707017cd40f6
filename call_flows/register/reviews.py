"""Reviews and expiry (R6) and appeals (R8) of caution-register entries.

Each entry is reviewed 6 months after it was added or last reviewed; the register as a whole every
6 months; an entry stops flagging at `expires_at` (register_rules) whatever the reviews said. The
periodic job (workers/register_jobs.py) calls `expire_due` and `remind_panel` with its own clock.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from call_flows.register import reminders, rules as register_rules
from call_flows.calls.callers import audit
from call_flows.clock import as_utc
from call_flows.errors import Conflict, InvalidInput, NotFound
from call_flows.models import AuditLog, Customer, RegisterAppeal, RegisterEntry, RegisterLetter, RegisterReminder, RegisterReview, User
from call_flows.vocabulary import DECIDED_ENTRIES, RegisterStatus
from call_flows.working_days import add_working_days
from call_flows.settings import OrgSettings


def _entry(session: Session, entry_id: int) -> RegisterEntry:
    entry = session.get(RegisterEntry, entry_id)
    if entry is None:
        raise NotFound(f"no register entry {entry_id}")
    return entry


def end_entry(session: Session, entry: RegisterEntry, status: str, reason: str, actor: User | None,
              now: datetime) -> None:
    """Take an entry off the register (it stops flagging at once) and log why (R9)."""
    entry.status, entry.ended_at, entry.end_reason = status, now, reason
    audit(session, actor, "end", "register_entry", entry.id, now, status=status, reason=reason)


def review_entry(session: Session, entry_id: int, reviewer: User, outcome: str, notes: str | None,
                 now: datetime) -> RegisterReview:
    """R6: the panel reviews an entry in force: keep it (review clock restarts) or remove it."""
    entry = _entry(session, entry_id)
    if entry.status != RegisterStatus.IN_FORCE:
        raise Conflict(f"entry {entry_id} is {entry.status}, not in force", code="not_in_force")
    review = RegisterReview(entry_id=entry.id, outcome=outcome, notes=notes,
                            reviewed_by_id=reviewer.id, reviewed_at=now)
    session.add(review)
    entry.last_reviewed_on = now
    if outcome == "remove":
        end_entry(session, entry, RegisterStatus.REMOVED, "review", reviewer, now)
    else:
        audit(session, reviewer, "review", "register_entry", entry.id, now, outcome=outcome)
    session.flush()
    return review


def review_register(session: Session, reviewer: User, notes: str | None, now: datetime) -> RegisterReview:
    """R6: the six-monthly documented review of the whole register (HDC 8.4)."""
    review = RegisterReview(entry_id=None, outcome="completed", notes=notes,
                            reviewed_by_id=reviewer.id, reviewed_at=now)
    session.add(review)
    session.flush()
    audit(session, reviewer, "review", "register", None, now, review_id=review.id)
    return review


def last_register_review(session: Session) -> datetime | None:
    return session.scalar(select(RegisterReview.reviewed_at).where(RegisterReview.entry_id.is_(None))
                          .order_by(RegisterReview.reviewed_at.desc()).limit(1))


def register_review_due(session: Session, now: datetime) -> datetime:
    """R6: six months after the last whole-register review; due now if there never was one."""
    last = last_register_review(session)
    return register_rules.review_due(last, None) if last else now


REVIEW_SLACK = timedelta(days=4)  # R6 dates clamp to the month's end: 31 Aug + 6 months = 28 Feb
PAGE = 1000  # entries read per query: the tick's memory does not grow with the register


def _cycle_start() -> ColumnElement[Any]:
    """When the entry's current review cycle began (R6): its last review, else the day it was added.
    Indexed (ix_register_entries_review, partial on in-force entries), so the tick reads only the due."""
    return func.coalesce(RegisterEntry.last_reviewed_on, RegisterEntry.added_on)


@dataclass(frozen=True)
class ReviewDue:
    """R6: an entry in force whose review date has come: its id, the customer's name, its marker, the
    review date and its expiry (UTC)."""

    id: int
    customer: str
    marker: int | None
    review_due: datetime
    expires_at: datetime | None


def iter_reviews_due(session: Session, now: datetime, unreminded: bool = False, page: int = PAGE) -> Iterator[ReviewDue]:
    """R6: entries in force whose review date (`register_rules.review_due`) has come, in pages of
    `page` rows by (cycle start, id). The index narrows to cycle starts up to 6 months and 4 days ago;
    the exact calendar rule is then applied to those few candidates in Python, so the dates are the
    same as before. `unreminded` leaves out entries already reminded of in this cycle (the tick)."""
    start = _cycle_start()
    query = (select(RegisterEntry.id, start.label("start"), RegisterEntry.added_on, RegisterEntry.last_reviewed_on,
                    RegisterEntry.marker, RegisterEntry.expires_at, Customer.name)
             .join(Customer).where(RegisterEntry.status == RegisterStatus.IN_FORCE,
                                   start <= now - register_rules.REVIEW_AFTER + REVIEW_SLACK))
    if unreminded:
        query = query.where(~select(RegisterReminder.id).where(
            RegisterReminder.entry_id == RegisterEntry.id, RegisterReminder.kind == "review_due",
            RegisterReminder.due_at > start).exists())
    after = None
    while True:
        paged = query if after is None else query.where(tuple_(start, RegisterEntry.id) > tuple_(*after))
        rows = session.execute(paged.order_by(start, RegisterEntry.id).limit(page)).all()
        for row in rows:
            when = register_rules.review_due(row.added_on, row.last_reviewed_on)
            if when <= now:
                yield ReviewDue(row.id, row.name, row.marker, when, as_utc(row.expires_at) if row.expires_at else None)
        if len(rows) < page:
            return
        after = (rows[-1].start, rows[-1].id)


def reviews_due(session: Session, now: datetime, limit: int | None = None) -> list[ReviewDue]:
    """R6: entries in force whose review date has come, the most overdue first (at most `limit`)."""
    due = sorted(iter_reviews_due(session, now), key=lambda d: d.review_due)
    return due[:limit] if limit is not None else due


EXPIRE_PER_TICK = 2000  # entries expired by one tick at most (ring time ignores them already); the rest next tick


def expire_due(session: Session, now: datetime, limit: int = EXPIRE_PER_TICK) -> list[int]:
    """R6: entries past `expires_at` stop being in force (ring time already ignores them), each logged
    as `end_entry` does (R9): three statements for up to `limit` entries, the earliest expired first."""
    ids = list(session.scalars(select(RegisterEntry.id).where(RegisterEntry.status == RegisterStatus.IN_FORCE,
                                                              RegisterEntry.expires_at <= now)
                               .order_by(RegisterEntry.expires_at, RegisterEntry.id).limit(limit)))
    if ids:
        session.execute(update(RegisterEntry).where(RegisterEntry.id.in_(ids))
                        .values(status=RegisterStatus.EXPIRED, ended_at=now, end_reason="expiry"))
        session.execute(insert(AuditLog), [{"at": now, "actor_id": None, "action": "end", "entity": "register_entry",
                                            "entity_id": i, "detail": {"status": RegisterStatus.EXPIRED.value, "reason": "expiry"}}
                                           for i in ids])
    return ids


def _due(session: Session, now: datetime) -> Iterator[reminders.Due]:
    """What the panel should be reminded of and was not yet: the few R6 register review, R5 letter and
    R3 meeting reminders first, then the R6 reviews due, most overdue first, read page by page."""
    due = register_review_due(session, now)
    if due <= now:
        yield reminders.Due(f"register-review-{due.date().isoformat()}", "register_review_due", None, due)
    overdue: tuple[tuple[str, str, Select[int, datetime | None]], ...] = (
        ("letter_overdue", "letter", select(RegisterLetter.entry_id, RegisterLetter.due_at).join(RegisterEntry)
         .where(RegisterEntry.status == RegisterStatus.AWAITING_NOTICE, RegisterLetter.due_at < now)),
        ("meeting_overdue", "meeting", select(RegisterEntry.id, RegisterEntry.meet_by)
         .where(RegisterEntry.status == RegisterStatus.PROPOSED, RegisterEntry.meet_by < now)))
    for kind, key, query in overdue:
        reminded = select(RegisterReminder.id).where(RegisterReminder.entry_id == RegisterEntry.id,
                                                     RegisterReminder.kind == kind).exists()
        for entry_id, due_at in session.execute(query.where(~reminded).order_by(RegisterEntry.id)).all():
            if due_at is not None:  # always (`< now` above); meet_by's column type allows NULL
                yield reminders.Due(f"{key}-{entry_id}", kind, entry_id, due_at)
    for item in iter_reviews_due(session, now, unreminded=True):
        yield reminders.Due(f"review-{item.id}-{item.review_due.date().isoformat()}", "review_due", item.id,
                            item.review_due)


def remind_panel(session: Session, now: datetime, settings: OrgSettings | None = None,
                 per_tick: int = reminders.PER_TICK) -> list[dict[str, Any]]:
    """R6 reviews due, the R6 register review, R5 letters overdue and R3 meetings overdue: new
    reminders (at most `per_tick`, in batches; the rest at the next tick), each once by its key."""
    made = reminders.make_all(session, _due(session, now), now, settings, per_tick)
    return [{"kind": d.kind, "entry_id": d.entry_id} for d in made]


def open_reminders(session: Session, limit: int = 50) -> list[RegisterReminder]:
    return list(session.scalars(select(RegisterReminder).order_by(RegisterReminder.due_at.desc()).limit(limit)))


def record_appeal(session: Session, entry_id: int, user: User, received_at: datetime, summary: str | None,
                  now: datetime, settings: OrgSettings) -> RegisterAppeal:
    """R8: an appeal against an entry, to be answered within 20 working days of receipt."""
    entry = _entry(session, entry_id)
    if entry.status not in DECIDED_ENTRIES:
        raise Conflict(f"entry {entry_id} is {entry.status}; there is nothing to appeal", code="not_appealable")
    if received_at > now:
        raise InvalidInput("received_at cannot be in the future")
    appeal = RegisterAppeal(entry_id=entry.id, received_at=received_at, summary=summary,
                            due_at=add_working_days(received_at, settings.appeal_working_days),
                            recorded_by_id=user.id)
    session.add(appeal)
    session.flush()
    audit(session, user, "appeal", "register_entry", entry.id, now, appeal_id=appeal.id)
    return appeal


def decide_appeal(session: Session, appeal_id: int, user: User, outcome: str, notes: str | None,
                  now: datetime) -> RegisterAppeal:
    """R8: the appeal's outcome; an upheld appeal removes the entry at once."""
    appeal = session.get(RegisterAppeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}")
    if appeal.outcome is not None:
        raise Conflict(f"appeal {appeal_id} was already {appeal.outcome}", code="already_decided")
    appeal.outcome, appeal.outcome_notes = outcome, notes  # valid (AppealOutcomeIn)
    appeal.decided_at = now
    entry = _entry(session, appeal.entry_id)
    if appeal.outcome == "upheld" and entry.status in DECIDED_ENTRIES:
        end_entry(session, entry, RegisterStatus.REMOVED, "appeal_upheld", user, now)
    else:
        audit(session, user, "appeal_decided", "register_entry", entry.id, now, outcome=appeal.outcome)
    session.flush()
    return appeal


def appeals_open(session: Session) -> list[RegisterAppeal]:
    return list(session.scalars(select(RegisterAppeal).where(RegisterAppeal.outcome.is_(None))
                                .order_by(RegisterAppeal.due_at)))
