"""Case notes (T4, M1-M3), incident records (I1-I7) and callback tasks (T5, M1)."""
from typing import Any
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.models.base import Base


class CaseNote(Base):
    """T4/M1: `known` is what the service filled in; `fields` is what the member of staff wrote."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(64), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    kind: Mapped[str] = mapped_column(String(32))  # termination | callback
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    known: Mapped[dict[str, Any]] = mapped_column(JSON)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Incident(Base):
    """I6: opened for every warned-and-terminated call; stays open until completed; never deleted."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_opened", "opened_at"),)  # 0018: trends by period

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    case_reference: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | completed
    serious: Mapped[bool] = mapped_column(default=False)  # I7: threat of violence
    opened_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # I1 fields, filled by the manager
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    picked_up_at: Mapped[datetime | None]  # I5: a manager claimed the callback or worked the record
    acknowledged_at: Mapped[datetime | None]  # I3: the staff member read and signed, in their own session
    escalated_at: Mapped[datetime | None]  # I5: sent to the area manager and union H&S reps
    serious_escalated_at: Mapped[datetime | None]  # I7: sent to the senior officer
    police_decision: Mapped[str | None] = mapped_column(String(32))  # I7: police_informed | police_not_needed
    police_decision_note: Mapped[str | None] = mapped_column(Text)
    police_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    police_decided_at: Mapped[datetime | None]


class CallbackTask(Base):
    """T5/M1: the line manager calls the customer back. Ordered by when the need arose."""

    __tablename__ = "callback_tasks"
    __table_args__ = (Index("ix_callback_tasks_team_status", "team_id", "status"),
                      Index("ix_callback_tasks_need_arose", "need_arose_at"))  # 0018: trends by period

    id: Mapped[int] = mapped_column(primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    need_arose_at: Mapped[datetime]
    due_at: Mapped[datetime]
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    claim_active_at: Mapped[datetime | None]  # last activity under the claim; idle claims expire
    retry_at: Mapped[datetime | None]  # no_answer: the next attempt is due from here
    overdue_notified_at: Mapped[datetime | None]  # the supervisor was told the task is overdue
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    dial_call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))  # M1: the callback under way
