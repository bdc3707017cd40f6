"""R9 retention purge, run every minute by `workers.jobs.tick` (see call_flows/retention.py).

Takes `now` from the caller so tests control the clock; commits its own work.
"""

from call_flows import retention
from call_flows import settings as org_settings
from call_flows import logs


log = logs.get_logger(__name__)


def retention_purge(app, now) -> dict:
    """Delete or reduce records past their `retention_<kind>_days`, then the outbox's old mail files."""
    session = app.extensions["sessionmaker"]()
    try:
        settings = org_settings.load(session)
        result = retention.purge(session, now, settings)
        session.commit()
    finally:
        session.close()
    result["mail_files"] = app.extensions["mailer"].purge_files(retention.cutoff(now, settings, "mail"))
    if any(result.values()):
        log.info("retention_purge", rule="R9",
                 **{kind: count for kind, count in result.items() if count})
    return result
