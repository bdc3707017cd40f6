"""Every minute: settle calls whose status callbacks never came, by asking Twilio (call_flows/calls/reconcile.py)."""
from datetime import timedelta

from app.events import publish
from call_flows.calls import reconcile


def reconcile_calls(app, now) -> int:
    """Returns how many calls changed state. `RECONCILE_AFTER_S` (app config) overrides the threshold."""
    session = app.extensions["sessionmaker"]()
    after = app.config.get("RECONCILE_AFTER_S")
    try:
        changes = reconcile.reconcile(session, app.extensions["job_context"].platform, now,
                                      timedelta(seconds=after) if after is not None else reconcile.STALE_AFTER)
        session.commit()
    finally:
        session.close()
    for change in changes:
        publish(app, "call_status", call_sid=change.call_sid, status=change.status, handler_id=change.handler_id,
                team_id=change.team_id)
    return len(changes)
