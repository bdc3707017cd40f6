"""Periodic checks for the caution register (R6, R3, R5, R9), run every minute by `workers.jobs.tick`.

Each is idempotent (a reminder is made once per thing and due date; an expired entry is expired
once), takes `now` from the caller so tests control the clock, and commits its own work.
"""
from call_flows.events import RegisterReminder
from call_flows.register import privacy as register_privacy, reviews as register_reviews
from call_flows import logs
from call_flows import settings as org_settings
from call_flows.unit_of_work import SqlAlchemyUnitOfWork

log = logs.get_logger(__name__)


def register_deadlines(wiring, now) -> dict:
    """R6: expire entries past their date and remind the panel of reviews, letters and meetings due
    (the reminder emails are outbox jobs, sent once each)."""
    with SqlAlchemyUnitOfWork(wiring) as uow:
        expired = register_reviews.expire_due(uow.session, now)
        reminders = register_reviews.remind_panel(uow.session, now, org_settings.load(uow.session))
        uow.record(*(RegisterReminder(item["kind"], item["entry_id"]) for item in reminders))
        uow.commit()
    if expired or reminders:
        log.info("register_deadlines", rule="R6", expired=len(expired), reminders=len(reminders))
    return {"expired": expired, "reminders": reminders}


def register_retention(wiring, now) -> dict:
    """R9: purge personal data past retention, leaving anonymised counts."""
    with SqlAlchemyUnitOfWork(wiring) as uow:
        result = register_privacy.purge_expired(uow.session, now, org_settings.load(uow.session))
        uow.commit()
    if result["entries"]:
        log.info("register_retention", rule="R9", purged=result["entries"], customers=result["customers"])
    return result
