"""Email as outbox work: `queue_email` records a delivery and its job under one business key
(e.g. `incident-7-to-hr.servicecentre@example.org`), so however often a check or a retry runs,
each message is sent once. The `send_email` task is the only place that talks to the mailer."""
from dataclasses import dataclass
from typing import Any
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.jobs import outbox
from call_flows.models import EmailDelivery, OutboxJob


def addresses(value: str) -> list[str]:
    """A configured recipient setting: one address, or several separated by commas."""
    return [a.strip() for a in (value or "").split(",") if a.strip()]


def record_link(session: Session, path: str) -> str:
    """The address of a page of callguard for an email: PUBLIC_BASE_URL (CONTRACT) + `path`; without
    PUBLIC_BASE_URL (a development set-up) the path alone, as there is no request to take a host from."""
    base = ((session.info.get("config") or {}).get("PUBLIC_BASE_URL") or "").rstrip("/")
    return base + path


def queue_email(session: Session, key: str, purpose: str, recipient: str, to: str, subject: str, body: str,
                now: datetime, incident_id: int | None = None, task_id: int | None = None, *,
                link: str) -> EmailDelivery:
    """Record one email (unless this key exists already) and the job that sends it. `link`: the path
    of the record the email is about (e.g. "/incidents/7"); every email ends with its full address."""
    delivery = session.scalar(select(EmailDelivery).where(EmailDelivery.key == key))
    if delivery is None:
        body = body.rstrip("\n") + f"\n\nOpen it in callguard: {record_link(session, link)}\n"
        delivery = EmailDelivery(key=key, purpose=purpose, recipient=recipient, to_address=to, subject=subject[:300],
                                 body=body, status="pending", attempts=0, created_at=now,
                                 incident_id=incident_id, task_id=task_id)
        session.add(delivery)
        session.flush()
    outbox.record(session, key, send_email, {"delivery_id": delivery.id}, now=now)
    return delivery


@outbox.task
def send_email(session: Session, ctx: Any, now: datetime, delivery_id: int) -> None:
    delivery = session.get_one(EmailDelivery, delivery_id)  # recorded with its job, never deleted while unsent
    if delivery.status == "sent":  # already sent: a retry or duplicate hand-over does nothing
        return
    ctx.mailer.send(delivery.key, delivery.to_address, delivery.subject, delivery.body)
    delivery.status = "sent"
    delivery.sent_at = now
    delivery.attempts += 1


@dataclass(frozen=True)
class Delivery:
    """An email about an incident and its delivery state: `status` "failed" once its job gave up,
    else the delivery's own; `attempts` and `last_error` from its job when it has one."""

    id: int
    purpose: str
    recipient: str
    to: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


def deliveries_for(session: Session, incident_id: int) -> list[Delivery]:
    """Each email about an incident with its delivery state (attempts and last error from its job)."""
    rows = session.execute(
        select(EmailDelivery, OutboxJob).outerjoin(OutboxJob, OutboxJob.key == EmailDelivery.key)
        .where(EmailDelivery.incident_id == incident_id).order_by(EmailDelivery.id)).all()
    return [Delivery(d.id, d.purpose, d.recipient, d.to_address, d.subject,
                     "failed" if job is not None and job.status == "failed" else d.status,
                     job.attempts if job is not None else d.attempts, job.last_error if job is not None else None,
                     d.sent_at) for d, job in rows]
