"""Periodic checks for the caution register (R6, R3, R5, R9), run every minute by `workers.jobs.tick`.

Each is idempotent (a reminder is made once per thing and due date; an expired entry is expired
once), takes `now` from the caller so tests control the clock, and commits its own work.
"""

from app.jobs import dispatch
from call_flows.jobs import outbox
from call_flows.register import privacy as register_privacy, reviews as register_reviews
from call_flows import settings as org_settings
from call_flows import logs


log = logs.get_logger(__name__)


def register_deadlines(app, now) -> dict:
    """R6: expire entries past their date and remind the panel of reviews, letters and meetings due."""
    session = app.extensions["sessionmaker"]()
    try:
        expired = register_reviews.expire_due(session, now)
        reminders = register_reviews.remind_panel(session, now, org_settings.load(session))
        session.commit()
        job_ids = outbox.recorded_ids(session)
    finally:
        session.close()
    dispatch(app, job_ids)  # the reminder emails (R6), sent once each through the outbox
    for item in reminders:
        app.extensions["job_context"].publish("register_reminder", reminder=item["kind"], entry_id=item["entry_id"])
    if expired or reminders:
        log.info("register_deadlines", rule="R6", expired=len(expired), reminders=len(reminders))
    return {"expired": expired, "reminders": reminders}


def register_retention(app, now) -> dict:
    """R9: purge personal data past retention, leaving anonymised counts."""
    session = app.extensions["sessionmaker"]()
    try:
        result = register_privacy.purge_expired(session, now, org_settings.load(session))
        session.commit()
    finally:
        session.close()
    if result["entries"]:
        log.info("register_retention", rule="R9", purged=result["entries"], customers=result["customers"])
    return result
