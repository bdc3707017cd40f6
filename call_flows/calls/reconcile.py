"""Calls whose status callbacks never came (Twilio's delivery failed, or we were down) are settled
by asking Twilio (issue 12 fault 6): a periodic check fetches each call left `ringing`,
`in-progress` (or queued/initiated) past a threshold and applies the state Twilio reports, through
the same code as a status callback (`status.apply_call_status`: never backwards, applied once)."""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.models import Call
from call_flows.platform.faults import PlatformFault
from call_flows import logs
from call_flows.calls.status import StatusChange, apply_call_status
from call_flows.platform.protocol import CallPlatform
from call_flows.vocabulary import ENDED, OPEN

log = logs.get_logger(__name__)
STALE_AFTER = timedelta(minutes=15)  # a ringing call is over after 10 min at most (Twilio's Timeout cap)
BATCH = 100


def stale_calls(session: Session, now: datetime, stale_after: timedelta = STALE_AFTER) -> list[Call]:
    """Open calls (no final status, no end time) that started more than `stale_after` ago, oldest first."""
    return list(session.scalars(select(Call).where(Call.status.in_(OPEN), Call.ended_at.is_(None),
                                                   Call.started_at <= now - stale_after)
                                .order_by(Call.started_at).limit(BATCH)))


def reconcile(session: Session, platform: CallPlatform, now: datetime, stale_after: timedelta = STALE_AFTER
              ) -> list[StatusChange]:
    """Ask the platform for each stale open call and apply its state. Returns the changes (for the
    live pages). A call the platform cannot be asked about now (429/5xx/timeout) waits for the next
    run; nothing is guessed. The caller commits."""
    changes = []
    for call in stale_calls(session, now, stale_after):
        try:
            state = platform.call_status(session, call.call_sid)
        except PlatformFault as exc:
            log.warning("reconcile_deferred", call_sid=call.call_sid, error=str(exc))
            continue
        if state == call.status or state not in ENDED + OPEN:
            continue
        change = apply_call_status(session, call.call_sid, state, None, "reconciled", None, now)
        if change is not None:
            log.info("call_reconciled", call_sid=call.call_sid, outcome=state)
            changes.append(change)
    return changes
