"""Repeat-caller signals (R10) and contact volume (C2), shown to managers.

These are automatic signals, not register markers: they inform a manager's decision (YORK "one-off
or repeated?") and never block a caller. Windows and thresholds are organisation settings:
`repeat_window_days`, `repeat_warnings_threshold`, `repeat_terminations_threshold`,
`calls_per_day_threshold`, `call_seconds_per_day_threshold`, `long_call_seconds`.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.models import Call, CallWarning, CustomerPhone, Customer, Termination
from call_flows.calls.ring import day_bounds, repeat_signals
from call_flows.settings import OrgSettings


def volume_signals(calls_today: int, seconds_today: int, longest_s: int, settings: OrgSettings) -> list[str]:
    """C2: many calls in one day, a lot of call time in one day, or one very long call."""
    signals = []
    if calls_today > settings.calls_per_day_threshold:
        signals.append("many_calls_today")
    if seconds_today > settings.call_seconds_per_day_threshold:
        signals.append("long_call_time_today")
    if longest_s > settings.long_call_seconds:
        signals.append("very_long_call")
    return signals


@dataclass(frozen=True)
class CallerSignals:
    """A caller with a signal (R10, C2): `caller` E.164, counts in the window and today, call time in
    seconds, the customer's name if the number is known, and the signals' codes."""

    caller: str | None
    warnings: int
    terminations: int
    calls: int
    call_seconds: int
    calls_today: int
    call_seconds_today: int
    longest_call_s: int
    customer: str | None
    signals: list[str]


def repeat_callers(session: Session, now: datetime, settings: OrgSettings, limit: int = 200) -> list[CallerSignals]:
    """Every caller with a signal in the window: warnings, terminations, calls and call time (R10, C2).

    Grouped queries over the (caller, created_at) indexes; the window is `repeat_window_days`."""
    bounds = day_bounds(now, settings)  # C2 today and the R10 window start at local midnight
    since, day_start = bounds["since"], bounds["day_start"]
    stats: dict[str | None, dict[str, Any]] = {}

    def row(caller: str | None) -> dict[str, Any]:
        return stats.setdefault(caller, {"caller": caller, "warnings": 0, "terminations": 0, "calls": 0,
                                         "call_seconds": 0, "calls_today": 0, "call_seconds_today": 0,
                                         "longest_call_s": 0})

    for caller, n in session.execute(select(CallWarning.caller, func.count()).where(
            CallWarning.created_at > since, CallWarning.caller.is_not(None)).group_by(CallWarning.caller)):
        row(caller)["warnings"] = n
    for caller, n in session.execute(select(Termination.caller, func.count()).where(
            Termination.created_at > since, Termination.caller.is_not(None)).group_by(Termination.caller)):
        row(caller)["terminations"] = n
    for caller, n, secs, longest in session.execute(
            select(Call.caller, func.count(), func.coalesce(func.sum(Call.duration_s), 0),
                   func.coalesce(func.max(Call.duration_s), 0))
            .where(Call.started_at > since, Call.caller.is_not(None)).group_by(Call.caller)):
        r = row(caller)
        r.update(calls=n, call_seconds=int(secs or 0), longest_call_s=int(longest or 0))
    for caller, n, secs in session.execute(
            select(Call.caller, func.count(), func.coalesce(func.sum(Call.duration_s), 0))
            .where(Call.started_at >= day_start, Call.caller.is_not(None)).group_by(Call.caller)):
        row(caller).update(calls_today=n, call_seconds_today=int(secs or 0))
    names: dict[str | None, str | None] = dict(session.execute(select(CustomerPhone.phone, Customer.name).join(Customer)
                                 .where(CustomerPhone.phone.in_(list(stats) or [""]))).all())
    out = []
    repeat_only = settings.model_copy(update={"calls_per_day_threshold": 10**9})  # C2 is counted just below
    for caller, r in stats.items():
        flags = repeat_signals(r["warnings"], r["terminations"], 0, repeat_only)
        flags += volume_signals(r["calls_today"], r["call_seconds_today"], r["longest_call_s"], settings)
        if flags:
            out.append(CallerSignals(**r, customer=names.get(caller), signals=flags))
    out.sort(key=lambda r: (-len(r.signals), -r.terminations, -r.warnings, -r.calls_today))
    return out[:limit]
