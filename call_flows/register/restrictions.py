"""Contact restrictions (C1): recorded by a manager only after the customer was told their conduct
is a concern and given the chance to change. Ring time routes by them (restrictions.routing_for, C3).
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.calls.callers import audit
from call_flows.errors import Conflict, InvalidInput, NotFound
from call_flows.models import ConcernNotice, Customer, Restriction, User
from call_flows.calls.restricted import check_hours

CHANNELS = ("letter", "phone", "email", "in_person")


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def record_concern(session: Session, customer_id: int, user: User, told_at: datetime, channel: str,
                   note: str | None, now: datetime) -> ConcernNotice:
    """C1: the customer was told their conduct is a concern, with the opportunity to change."""
    _customer(session, customer_id)
    if told_at > now:
        raise InvalidInput("told_at cannot be in the future")
    notice = ConcernNotice(customer_id=customer_id, told_at=told_at, channel=channel,
                           note=note, recorded_by_id=user.id, created_at=now)
    session.add(notice)
    session.flush()
    audit(session, user, "concern_told", "customer", customer_id, now, notice_id=notice.id)
    return notice


def add_restriction(session: Session, customer_id: int, user: User, kind: str, detail: str | None,
                    named_officer_id: int | None, hours: dict[str, Any] | None, now: datetime) -> Restriction:
    """C1: refused (409 customer_not_told) until a concern notice is on record for this customer."""
    _customer(session, customer_id)
    told = session.scalar(select(ConcernNotice.told_at).where(ConcernNotice.customer_id == customer_id,
                                                              ConcernNotice.told_at <= now)
                          .order_by(ConcernNotice.told_at.desc()).limit(1))
    if told is None:
        raise Conflict("record that the customer was told their conduct is a concern before restricting contact (C1)",
                       code="customer_not_told")
    if kind == "named_officer":
        officer = session.get(User, named_officer_id) if named_officer_id else None
        if officer is None or not officer.active:
            raise InvalidInput("named_officer_id must be an active member of staff")
    elif named_officer_id is not None:
        officer = session.get(User, named_officer_id)
        if officer is None:
            raise InvalidInput("named_officer_id is not a member of staff")
    if kind == "set_hours":
        hours = check_hours(hours)
    elif hours is not None:
        raise InvalidInput("hours apply only to a set_hours restriction")
    if session.scalar(select(Restriction.id).where(Restriction.customer_id == customer_id,
                                                   Restriction.status == "active")) is not None:
        raise Conflict("this customer already has an active restriction; end it first", code="already_restricted")
    restriction = Restriction(customer_id=customer_id, kind=kind, detail=detail,
                              named_officer_id=named_officer_id, hours=hours, status="active",
                              customer_told_at=told, created_by_id=user.id, created_at=now)
    session.add(restriction)
    session.flush()
    audit(session, user, "create", "restriction", restriction.id, now, customer_id=customer_id, kind=kind)
    return restriction


def end_restriction(session: Session, restriction_id: int, user: User, now: datetime) -> Restriction:
    restriction = session.get(Restriction, restriction_id)
    if restriction is None:
        raise NotFound(f"no restriction {restriction_id}")
    if restriction.status != "active":
        raise Conflict(f"restriction {restriction_id} is already {restriction.status}", code="not_active")
    restriction.status = "ended"
    audit(session, user, "end", "restriction", restriction.id, now, customer_id=restriction.customer_id)
    return restriction


@dataclass(frozen=True)
class Held:
    """A customer's concern notices (C1) and contact restrictions (C1, C3), newest first."""

    concerns: list[ConcernNotice]
    restrictions: list[Restriction]


def for_customer(session: Session, customer_id: int) -> Held:
    return Held(list(session.scalars(select(ConcernNotice).where(ConcernNotice.customer_id == customer_id)
                                     .order_by(ConcernNotice.told_at.desc()))),
                list(session.scalars(select(Restriction).where(Restriction.customer_id == customer_id)
                                     .order_by(Restriction.id.desc()))))
