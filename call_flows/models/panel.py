"""The review panel's records around a caution-register entry (R3, R5, R6, R8, R9, C1).

Kept apart from `register.py` so the ring-time tables stay small: nothing here is read at ring time.
"""
from typing import Any
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.models.base import Base


class PanelDecision(Base):
    """R3: the panel's decision on a proposal, with the members present (at least 3, one the chair)."""

    __tablename__ = "panel_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))  # add | reject
    member_ids: Mapped[list[Any]] = mapped_column(JSON)  # R3: who was present
    chair_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    justification: Mapped[str] = mapped_column(Text)  # R3: documented, case by case
    share: Mapped[bool] = mapped_column(default=False)  # R7
    share_with: Mapped[str | None] = mapped_column(Text)
    share_justification: Mapped[str | None] = mapped_column(Text)
    signatory_name: Mapped[str | None] = mapped_column(String(200))  # R5: the most senior member present
    signatory_title: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime]


class RegisterLetter(Base):
    """R5: the customer's letter (or the documented exemption); the entry takes effect when either is recorded."""

    __tablename__ = "register_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id"), unique=True)
    due_at: Mapped[datetime]  # 2 working days after the decision
    body: Mapped[str | None] = mapped_column(Text)  # the text as sent, kept on file (HDC 8.2.8)
    generated_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    exemption: Mapped[str | None] = mapped_column(String(32))  # risk_of_violence | address_unknown
    exemption_justification: Mapped[str | None] = mapped_column(Text)


class RegisterAppeal(Base):
    """R8: an appeal (complaints procedure stage 2), answered within 20 working days."""

    __tablename__ = "register_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id"), index=True)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    summary: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld | dismissed
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RegisterReview(Base):
    """R6: a review of one entry (entry_id set) or the six-monthly review of the whole register."""

    __tablename__ = "register_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("register_entries.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # keep | remove | completed
    notes: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime]


class RegisterReminder(Base):
    """R6/R3/R5: a reminder to the panel, once per thing and due date (the periodic job is idempotent)."""

    __tablename__ = "register_reminders"
    __table_args__ = (UniqueConstraint("key"), Index("ix_register_reminders_entry_kind", "entry_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))  # review_due | register_review_due | letter_overdue | ...
    entry_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]


class ConcernNotice(Base):
    """C1: the customer was told their conduct is a concern, with the chance to change, before a restriction."""

    __tablename__ = "concern_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    told_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16))  # letter | phone | email | in_person
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class RegisterCount(Base):
    """R9: anonymised counts left behind when personal data past retention is purged (I8 trends)."""

    __tablename__ = "register_counts"
    __table_args__ = (UniqueConstraint("month", "marker", "source", "final_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM the entry was proposed
    marker: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    final_status: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer, default=0)
