"""Periodic deadline checks (overdue callbacks, no_answer retries, idle claims, I5, I7): every minute
from `workers.jobs.tick`. Emails are outbox jobs, handed over after the commit."""
from call_flows import settings as org_settings
from call_flows.events import CallbackOverdue, IncidentSerious
from call_flows.incidents import deadlines
from call_flows.unit_of_work import SqlAlchemyUnitOfWork


def check_deadlines(wiring, now) -> dict:
    with SqlAlchemyUnitOfWork(wiring) as uow:
        summary = deadlines.check(uow.session, now, org_settings.load(uow.session))
        uow.record(*(CallbackOverdue(task_id) for task_id in summary["overdue"]),
                   *(IncidentSerious(incident_id) for incident_id in summary["escalated_i7"]))
        uow.commit()
    return summary
