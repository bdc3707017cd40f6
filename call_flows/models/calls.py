"""Calls and what happened on them: warnings (T1) and terminations (T3)."""
from typing import Any
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.models.base import Base


class Call(Base):
    """One inbound (or callback) call. Written at ring time by a single statement (see ring.py)."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_caller_started", "caller", "started_at"),
        # R9 retention: the purge finds calls not yet reduced, oldest first, without scanning reduced ones
        Index("ix_calls_live", "status", "started_at",  # 0018: the board reads live calls only
              postgresql_where=text("status IN ('ringing', 'queued', 'in-progress')"),
              sqlite_where=text("status IN ('ringing', 'queued', 'in-progress')")),
        Index("ix_calls_id_team", "id", postgresql_include=["team_id"]),  # 0018: trends, index-only
        Index("ix_calls_unpurged_started", "started_at", postgresql_where=text("purged_at IS NULL"),
              sqlite_where=text("purged_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    caller: Mapped[str | None] = mapped_column(String(32))  # E.164, or NULL when not a number
    caller_kind: Mapped[str] = mapped_column(String(16))
    caller_raw: Mapped[str] = mapped_column(String(64))
    called: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="ringing")
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[int | None] = mapped_column(Integer)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    conference_sid: Mapped[str | None] = mapped_column(String(64))
    ring_marker: Mapped[int | None] = mapped_column(Integer)  # register marker seen at ring time (R1)
    ring_signals: Mapped[list[Any] | None] = mapped_column(JSON)  # R10/C2 signals at ring time (None = none)
    ring_restricted: Mapped[bool | None] = mapped_column(Boolean)  # C3: a contact restriction at ring time
    needs_note: Mapped[str | None] = mapped_column(Text)  # T2: a disability or need may be involved
    purged_at: Mapped[datetime | None]  # R9: the caller's number was reduced to its last 4 digits (retention.py)


class CallWarning(Base):
    """T1: the caller was warned. `platform_status` says whether the caller has heard it yet."""

    __tablename__ = "warnings"
    __table_args__ = (Index("ix_warnings_caller_created", "caller", "created_at"),
                      Index("ix_warnings_created", "created_at"))  # 0018: trends by period

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    caller: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    given_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    platform_status: Mapped[str] = mapped_column(String(16), default="pending")


class Termination(Base):
    """T3: the call was ended for behaviour. One per call (repeating returns the same one)."""

    __tablename__ = "terminations"
    __table_args__ = (
        UniqueConstraint("call_id"),
        Index("ix_terminations_caller_created", "caller", "created_at"),
        Index("ix_terminations_created", "created_at"),  # 0018: trends and the board's recent ends
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    caller: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    immediate_reason: Mapped[str | None] = mapped_column(String(32))
    immediate_detail: Mapped[str | None] = mapped_column(Text)
    case_reference: Mapped[str] = mapped_column(String(64))
    terminated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    platform_status: Mapped[str] = mapped_column(String(16), default="pending")
    case_note_id: Mapped[int | None] = mapped_column(ForeignKey("case_notes.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    callback_task_id: Mapped[int | None] = mapped_column(ForeignKey("callback_tasks.id"))


class WebhookReceipt(Base):
    """Idempotency: a webhook delivery already applied is recorded here and not applied again."""

    __tablename__ = "webhook_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime]


class PlatformAction(Base):
    """What the simulated platform was asked to do (embedded default): the caller's view of a call."""

    __tablename__ = "platform_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
