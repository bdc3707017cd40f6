"""Recovery time after a termination (issue 6): the handler is offered a pause before the next call
and the team lead is alerted so they can check on them (HMPO: speak with the staff member)."""
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.models.base import Base


class RecoveryPeriod(Base):
    """One per termination. Over at `ends_at`, or earlier when the handler says they are ready."""

    __tablename__ = "recovery_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    termination_id: Mapped[int] = mapped_column(ForeignKey("terminations.id"), unique=True)
    started_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ended_early_at: Mapped[datetime | None]
    lead_alerted_at: Mapped[datetime | None]
