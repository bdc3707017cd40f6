"""R9 retention purge, run every minute by `workers.jobs.tick` (see call_flows/retention.py).

Takes `now` from the caller so tests control the clock; commits its own work.
"""
from call_flows import retention
from call_flows import logs
from call_flows import settings as org_settings
from call_flows.unit_of_work import SqlAlchemyUnitOfWork

log = logs.get_logger(__name__)


def retention_purge(wiring, now) -> dict:
    """Delete or reduce records past their `retention_<kind>_days`, then the outbox's old mail files."""
    with SqlAlchemyUnitOfWork(wiring) as uow:
        settings = org_settings.load(uow.session)
        result = retention.purge(uow.session, now, settings)
        uow.commit()
    result["mail_files"] = wiring.ctx.mailer.purge_files(retention.cutoff(now, settings, "mail"))
    if any(result.values()):
        log.info("retention_purge", rule="R9",
                 **{kind: count for kind, count in result.items() if count})
    return result
