"""Periodic deadline checks (overdue callbacks, no_answer retries, idle claims, I5, I7): every minute
from `workers.jobs.tick`. Emails are outbox jobs, handed over after the commit."""
from app.events import publish
from app.jobs import dispatch
from call_flows.incidents import deadlines
from call_flows.jobs import outbox
from call_flows import settings as org_settings


def check_deadlines(app, now) -> dict:
    session = app.extensions["sessionmaker"]()
    try:
        summary = deadlines.check(session, now, org_settings.load(session))
        session.commit()
        job_ids = outbox.recorded_ids(session)
    finally:
        session.close()
    dispatch(app, job_ids)
    for task_id in summary["overdue"]:
        publish(app, "callback_overdue", task_id=task_id)
    for incident_id in summary["escalated_i7"]:
        publish(app, "incident_serious", incident_id=incident_id)
    return summary
