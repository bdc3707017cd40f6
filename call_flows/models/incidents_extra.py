"""Emails sent about incidents and callbacks (I4 distribution, I5/I7 escalation, overdue notices).

One row per (business key): the outbox job with the same key sends it, so a retry never sends twice,
and the incident page shows each delivery's status.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.errors import DomainError
from call_flows.models.base import Base
from call_flows.models.cases import Incident


class IncidentNotDeletable(DomainError):
    code = "incident_not_deletable"
    status = 405


class EmailDelivery(Base):
    __tablename__ = "email_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # also the outbox job's key
    purpose: Mapped[str] = mapped_column(String(32))  # distribution | escalation_i5 | serious_i7 | overdue | ...
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("callback_tasks.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(64))  # hr_service_centre, union_hs_reps, supervisor, ...
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


@event.listens_for(Incident, "before_delete")
def _incidents_are_never_deleted(mapper: object, connection: object, target: Incident) -> None:
    """I6: an incident record cannot be silently deleted; it stays open until completed."""
    raise IncidentNotDeletable(f"incident {target.id} cannot be deleted (I6)")
