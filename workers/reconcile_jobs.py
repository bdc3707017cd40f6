"""Every minute: settle calls whose status callbacks never came, by asking Twilio (call_flows/calls/reconcile.py)."""
from datetime import timedelta

from call_flows.calls import reconcile
from call_flows.unit_of_work import SqlAlchemyUnitOfWork


def reconcile_calls(wiring, now) -> int:
    """Returns how many calls changed state (each publishes `call_status`, as a status callback does).
    `RECONCILE_AFTER_S` (configuration) overrides the threshold."""
    after = wiring.config.get("RECONCILE_AFTER_S")
    with SqlAlchemyUnitOfWork(wiring) as uow:
        changes = reconcile.reconcile(uow.session, wiring.ctx.platform, now,
                                      timedelta(seconds=after) if after is not None else reconcile.STALE_AFTER)
        uow.commit()
    return len(changes)
