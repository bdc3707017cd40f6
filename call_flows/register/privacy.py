"""Data protection for the register (R9): least data per role, audited views, subject access, retention.

Every read of an entry goes through `entry_view` or `subject_access`, which write an audit row;
nothing in the service updates or deletes audit rows. The retention purge removes personal data of
entries that ended long enough ago and leaves only anonymised monthly counts (I8 trends).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from call_flows.register import rules as register_rules
from call_flows.calls.callers import audit
from call_flows.errors import Forbidden, NotFound
from call_flows.register.shown import entries_shown
from call_flows.models import (AuditLog, ConcernNotice, Customer, CustomerPhone, PanelDecision, RegisterAppeal, RegisterCount,
                     RegisterEntry, RegisterLetter, RegisterReminder, RegisterReview, Restriction, User)
from call_flows.vocabulary import ENDED_ENTRIES, PANEL_ROLES, REGISTER_READERS as MANAGER_ROLES
from call_flows.settings import OrgSettings


EntryRow = TypeVar("EntryRow", PanelDecision, RegisterLetter, RegisterAppeal, RegisterReview)  # rows kept per entry


@dataclass(frozen=True)
class EntrySummary:
    """R4 content that any manager may see (no minutes, no justification): the entry, its customer's
    name and when it is due for review (R6; None before it was added)."""

    entry: RegisterEntry
    customer: str | None
    review_due: datetime | None


@dataclass(frozen=True)
class PanelRecord:
    """What panel members also see of an entry (R9): its incident record and summary, the customer's
    address, email and case references, the decision, the letter, appeals and reviews (oldest first)."""

    incident_id: int | None
    summary: str | None
    address: str | None
    email: str | None
    case_references: list[str]
    decision: PanelDecision | None
    letter: RegisterLetter | None
    appeals: list[RegisterAppeal]
    reviews: list[RegisterReview]


@dataclass(frozen=True)
class EntryView:
    """One entry as the viewer's role may see it: its summary, the customer's numbers and, for the
    panel only (R9), its panel record (None for other readers)."""

    summary: EntrySummary
    phones: list[str]
    panel: PanelRecord | None


@dataclass(frozen=True)
class SubjectAccess:
    """R9: everything held about a customer, each list as stored (the access log oldest first)."""

    generated_at: datetime
    customer: Customer
    phones: list[str]
    register_entries: list[RegisterEntry]
    panel_decisions: list[PanelDecision]
    letters: list[RegisterLetter]
    appeals: list[RegisterAppeal]
    reviews: list[RegisterReview]
    restrictions: list[Restriction]
    concern_notices: list[ConcernNotice]
    access_log: list[AuditLog]


def entry_summary(entry: RegisterEntry, customer: Customer) -> EntrySummary:
    """R4 content that any manager may see (no minutes, no justification)."""
    review = register_rules.review_due(entry.added_on, entry.last_reviewed_on) if entry.added_on else None
    return EntrySummary(entry, customer.name, review)


def list_entries(session: Session, viewer: User, now: datetime, status: str | None = None) -> list[EntrySummary]:
    """The register as a list; the listing itself is audited once (R9)."""
    query = select(RegisterEntry, Customer).join(Customer).order_by(RegisterEntry.id.desc())
    if status:
        query = query.where(RegisterEntry.status == status)
    rows = [entry_summary(e, c) for e, c in session.execute(query.limit(500)).all()]
    audit(session, viewer, "view", "register", None, now, status=status, count=len(rows))
    entries_shown(session, viewer, [r.entry.id for r in rows], now, "register_list")  # each entry listed
    return rows


def entry_view(session: Session, entry_id: int, viewer: User, now: datetime) -> EntryView:
    """One entry as the viewer's role may see it; panel members also see the decision, letter and appeals."""
    if viewer.role not in MANAGER_ROLES:
        raise Forbidden("handlers see a caller's marker and precautions at ring time only (R9)")
    entry = session.get(RegisterEntry, entry_id)
    if entry is None:
        raise NotFound(f"no register entry {entry_id}")
    customer = session.get_one(Customer, entry.customer_id)  # register_entries.customer_id: a foreign key
    phones = list(session.scalars(select(CustomerPhone.phone).where(CustomerPhone.customer_id == customer.id)
                                  .order_by(CustomerPhone.phone)))
    panel = None
    if viewer.role in PANEL_ROLES:
        panel = PanelRecord(
            entry.incident_id, entry.summary, customer.address, customer.email, customer.case_references or [],
            session.scalar(select(PanelDecision).where(PanelDecision.entry_id == entry.id)),
            session.scalar(select(RegisterLetter).where(RegisterLetter.entry_id == entry.id)),
            list(session.scalars(select(RegisterAppeal).where(RegisterAppeal.entry_id == entry.id)
                                 .order_by(RegisterAppeal.id))),
            list(session.scalars(select(RegisterReview).where(RegisterReview.entry_id == entry.id)
                                 .order_by(RegisterReview.id))))
    audit(session, viewer, "view", "register_entry", entry.id, now, role=viewer.role)
    return EntryView(entry_summary(entry, customer), phones, panel)


def subject_access(session: Session, customer_id: int, viewer: User, now: datetime) -> SubjectAccess:
    """R9: everything held about a customer, for a subject-access request (HDC 8.5: through the panel chair)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    entries = list(session.scalars(select(RegisterEntry).where(RegisterEntry.customer_id == customer_id)))
    ids = [e.id for e in entries]

    def rows(model: type[EntryRow]) -> list[EntryRow]:
        return list(session.scalars(select(model).where(model.entry_id.in_(ids)).order_by(model.id))) if ids else []

    export = SubjectAccess(
        now, customer,
        list(session.scalars(select(CustomerPhone.phone).where(CustomerPhone.customer_id == customer_id))),
        entries, rows(PanelDecision), rows(RegisterLetter), rows(RegisterAppeal), rows(RegisterReview),
        list(session.scalars(select(Restriction).where(Restriction.customer_id == customer_id))),
        list(session.scalars(select(ConcernNotice).where(ConcernNotice.customer_id == customer_id))),
        list(session.scalars(  # views of the entries and look-ups of the customer
            select(AuditLog).where(or_(and_(AuditLog.entity == "register_entry", AuditLog.entity_id.in_(ids)),
                                       and_(AuditLog.entity == "customer", AuditLog.entity_id == customer_id)))
            .order_by(AuditLog.id))))
    audit(session, viewer, "export", "customer", customer_id, now, entries=ids)
    return export


def purge_expired(session: Session, now: datetime, settings: OrgSettings) -> dict[str, Any]:
    """R9: remove personal data of entries ended more than `register_retention_days` ago.

    Each purged entry adds one to an anonymised count (month proposed, marker, source, final status);
    a customer with nothing else held (no open entry, no active restriction) is removed with their numbers.
    The audit log keeps only ids, so it stays as it is.
    """
    cutoff = now - timedelta(days=settings.register_retention_days)
    entries = list(session.scalars(select(RegisterEntry).where(RegisterEntry.status.in_(ENDED_ENTRIES),
                                                               RegisterEntry.ended_at <= cutoff)))
    customers: set[int] = set()
    for entry in entries:
        _count(session, entry)
        for model in (PanelDecision, RegisterLetter, RegisterAppeal, RegisterReview):
            session.execute(delete(model).where(model.entry_id == entry.id))
        session.execute(delete(RegisterReminder).where(RegisterReminder.entry_id == entry.id))
        customers.add(entry.customer_id)
        session.delete(entry)
        audit(session, None, "purge", "register_entry", entry.id, now)
    session.flush()
    removed = 0
    for customer_id in customers:
        still_held = session.scalar(select(func.count()).select_from(RegisterEntry)
                                    .where(RegisterEntry.customer_id == customer_id))
        active = session.scalar(select(func.count()).select_from(Restriction)
                                .where(Restriction.customer_id == customer_id, Restriction.status == "active"))
        if still_held or active:
            continue
        session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == customer_id))
        session.execute(delete(ConcernNotice).where(ConcernNotice.customer_id == customer_id))
        session.execute(delete(Restriction).where(Restriction.customer_id == customer_id))
        session.execute(delete(Customer).where(Customer.id == customer_id))
        removed += 1
    return {"entries": len(entries), "customers": removed}


def _count(session: Session, entry: RegisterEntry) -> None:
    month = entry.created_at.strftime("%Y-%m")
    row = session.scalar(select(RegisterCount).where(
        RegisterCount.month == month, RegisterCount.source == entry.source, RegisterCount.final_status == entry.status,
        RegisterCount.marker.is_(None) if entry.marker is None else RegisterCount.marker == entry.marker))
    if row is None:
        session.add(RegisterCount(month=month, marker=entry.marker, source=entry.source, final_status=entry.status,
                                  count=1))
        session.flush()
    else:
        session.execute(update(RegisterCount).where(RegisterCount.id == row.id).values(count=RegisterCount.count + 1))


def counts(session: Session) -> list[RegisterCount]:
    """R9/I8: the anonymised counts the retention purge left, by month (oldest first)."""
    return list(session.scalars(select(RegisterCount).order_by(RegisterCount.month)))
