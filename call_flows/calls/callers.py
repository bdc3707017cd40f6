"""A caller's flags as a role may see them (R1, R9 least data, R10, C2, C3)."""
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from call_flows.models import AuditLog, Call, CallWarning, CustomerPhone, RegisterEntry, Restriction, Termination, User
from call_flows.phone import mask
from call_flows.calls.ring import day_bounds, repeat_signals
from call_flows.calls.signals import volume_signals
from call_flows.vocabulary import REGISTER_READERS as MANAGER_ROLES, RegisterStatus
from call_flows.settings import OrgSettings



def audit(session: Session, actor: User | None, action: str, entity: str, entity_id: int | None,
          now: datetime, **detail: Any) -> None:
    """R9: every view and change of a register entry is logged (append-only)."""
    session.add(AuditLog(at=now, actor_id=actor.id if actor else None, action=action, entity=entity,
                         entity_id=entity_id, detail=detail))


def _on_own_current_call(session: Session, viewer: User, e164: str, now: datetime) -> bool:
    from call_flows.calls.console import current_call  # the console's own notion of "your call" (console imports this module)

    call = current_call(session, viewer, now)
    return call is not None and call.caller == e164


@dataclass(frozen=True)
class RecentCall:
    """One of the caller's recent calls, as the viewer's teams took it."""

    call_sid: str
    started_at: datetime
    status: str
    duration_s: int | None


@dataclass(frozen=True)
class EntryHeld:
    """What managers also see of the entry in force (R9): its id and dates."""

    entry_id: int
    added_on: datetime | None
    last_reviewed_on: datetime | None


@dataclass(frozen=True)
class EntryFlag:
    """The register entry in force (R1, R2): its marker and precautions; `held` for managers only (R9)."""

    marker: int | None
    precautions: str | None
    held: EntryHeld | None


@dataclass(frozen=True)
class RestrictionFlag:
    """The active restriction's terms (C3); managers also see its named officer (`officer_shown`, R9)."""

    kind: str
    detail: str | None
    officer_shown: bool
    named_officer_id: int | None


@dataclass(frozen=True)
class CallerFlags:
    """A caller's flags trimmed to what the viewer's role may see (R9): the register entry in force
    (or None), the active restriction (or None), the repeat-caller signals in the window (R10) and
    today's calls and call time (C2), with `flags` the signals raised; the recent calls of the viewer's
    teams (newest first)."""

    caller: str
    register: EntryFlag | None
    restriction: RestrictionFlag | None
    warnings: int
    terminations: int
    window_days: int
    calls_today: int
    call_seconds_today: int
    flags: list[str]
    recent_calls: list[RecentCall]


def flags_for(session: Session, e164: str, viewer: User, now: datetime, settings: OrgSettings) -> CallerFlags | None:
    """Everything flagged about a number, trimmed to what the viewer's role needs (R9 least data).

    A call handler sees the flags of the caller on their own current call only (marker and
    precautions, signals, the restriction's terms: what the console shows them); for any other
    number the answer is None, as for a caller the service has never seen. Line managers,
    supervisors, panel members and administrators may look any number up (R1, R10, C2, C3);
    recent calls are only those of the viewer's teams (call_flows/staff/visibility.py).
    Every look-up, refused or not, writes an audit row saying what was shown (R9); the caller commits.
    """
    if viewer.role not in MANAGER_ROLES and not _on_own_current_call(session, viewer, e164, now):
        audit(session, viewer, "view_refused", "caller", None, now, via="caller_flags", number=mask(e164))
        return None
    bounds = day_bounds(now, settings)  # C2 today and the R10 window start at local midnight
    since, day_start = bounds["since"], bounds["day_start"]
    customer_id = session.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.phone == e164))
    manager = viewer.role in MANAGER_ROLES
    register = restriction = None
    shown: dict[str, Any] = {"via": "caller_flags", "number": mask(e164)}
    if customer_id is not None:
        entry = session.scalar(
            select(RegisterEntry).where(RegisterEntry.customer_id == customer_id, RegisterEntry.status == RegisterStatus.IN_FORCE,
                                        RegisterEntry.expires_at > now).order_by(RegisterEntry.marker).limit(1))
        if entry is not None:  # R9: handlers see the marker and precautions, nothing else
            held = EntryHeld(entry.id, entry.added_on, entry.last_reviewed_on) if manager else None
            register = EntryFlag(entry.marker, entry.precautions, held)
            audit(session, viewer, "view", "register_entry", entry.id, now, via="caller_flags")
            shown["entry_id"] = entry.id
        active = session.scalar(select(Restriction).where(Restriction.customer_id == customer_id,
                                                          Restriction.status == "active")
                                .order_by(Restriction.id.desc()).limit(1))
        if active is not None:
            restriction = RestrictionFlag(active.kind, active.detail, manager,
                                          active.named_officer_id if manager else None)
            shown["restriction_id"] = active.id
    warnings = session.execute(select(func.count()).where(CallWarning.caller == e164,
                                                         CallWarning.created_at > since)).scalar_one()
    terminations = session.execute(select(func.count()).where(Termination.caller == e164,
                                                              Termination.created_at > since)).scalar_one()
    calls_today, seconds_today = session.execute(
        select(func.count(), func.coalesce(func.sum(Call.duration_s), 0))
        .where(Call.caller == e164, Call.started_at >= day_start)).one()
    recent = _recent_calls(session, e164, viewer)
    shown["calls"] = [r.id for r in recent]
    audit(session, viewer, "view", "customer", customer_id, now, **shown)  # found by the export
    seconds = int(seconds_today or 0)
    return CallerFlags(
        e164, register, restriction, warnings, terminations, settings.repeat_window_days,
        calls_today, seconds,
        repeat_signals(warnings, terminations, max(0, calls_today - 1), settings)
        + volume_signals(0, seconds, 0, settings),  # C2 call time (call_flows/calls/signals.py)
        [RecentCall(r.call_sid, r.started_at, r.status, r.duration_s) for r in recent])


def _recent_calls(session: Session, e164: str, viewer: User) -> list[Any]:
    """The caller's last 10 calls that the viewer's teams took (all teams: administrators and a
    supervisor without a team; none: handlers and panel members, who work no team's call history)."""
    from call_flows.staff.visibility import teams_in_view

    teams = teams_in_view(session, viewer)
    if teams == []:
        return []
    query = select(Call.id, Call.call_sid, Call.started_at, Call.status, Call.duration_s).where(Call.caller == e164)
    if teams is not None:
        query = query.where(Call.team_id.in_(teams))
    return list(session.execute(query.order_by(Call.started_at.desc()).limit(10)).all())
