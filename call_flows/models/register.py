"""Customers, the caution register (R1-R9) and contact restrictions (C1-C3).

Ring time finds a caller through `customer_phones.phone` (unique, E.164), so the lookup is one
indexed probe whatever the register's size (R1).
"""
from typing import Any
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.models.base import Base


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    case_references: Mapped[list[Any] | None] = mapped_column(JSON)  # application or case references (R4)


class CustomerPhone(Base):
    __tablename__ = "customer_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)


class RegisterEntry(Base):
    """R4 content. Flags at ring time only while status is `in_force` and before `expires_at` (R6)."""

    __tablename__ = "register_entries"
    __table_args__ = (  # 0018: the minute tick reads only what is due (R6), whatever the register's size
        Index("ix_register_entries_review", text("coalesce(last_reviewed_on, added_on)"), "id",
              postgresql_where=text("status = 'in_force'"), sqlite_where=text("status = 'in_force'")),
        Index("ix_register_entries_in_force_expires", "expires_at", postgresql_where=text("status = 'in_force'"),
              sqlite_where=text("status = 'in_force'")),
        Index("ix_register_entries_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    marker: Mapped[int | None] = mapped_column(Integer)  # R2: 1 violent, 2 potentially violent, 3 abusive
    precautions: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="own")  # own | partner
    key_contact: Mapped[str | None] = mapped_column(String(200))
    reporting_service: Mapped[str | None] = mapped_column(String(200))
    notified: Mapped[bool] = mapped_column(default=False)
    added_on: Mapped[datetime | None]
    last_reviewed_on: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # R3 panel workflow (0003): who proposed it from which incident, and when the panel must meet by.
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str | None] = mapped_column(Text)  # the incident as the letter describes it (R5)
    meet_by: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]  # expired, removed on review or appeal (R6, R8)
    end_reason: Mapped[str | None] = mapped_column(String(32))


class Restriction(Base):
    """C1: a contact restriction; C3: ring time routes the caller as it says."""

    __tablename__ = "restrictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # named_officer | set_hours | written_only | ...
    detail: Mapped[str | None] = mapped_column(Text)
    named_officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="active")
    customer_told_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class AuditLog(Base):
    """R9: who viewed or changed what. Append-only: the service has no update or delete for it."""

    __tablename__ = "audit_log"
    # 0022: a viewer's last logged view of an entry (register.shown), by index whatever the log's size
    __table_args__ = (Index("ix_audit_log_viewer", "actor_id", "entity", "entity_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))  # view | create | update | ...
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
