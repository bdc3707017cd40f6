"""A caller's flags as a role may see them (R1, R9 least data, R10, C2, C3)."""
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import AuditLog, Call, CallWarning, CustomerPhone, RegisterEntry, Restriction, Termination, User
from .ring import day_bounds, repeat_signals
from .signals import volume_signals

MANAGER_ROLES = ("line_manager", "supervisor", "admin", "panel_member")


def audit(session: Session, actor: User | None, action: str, entity: str, entity_id: int | None,
          now: datetime, **detail) -> None:
    """R9: every view and change of a register entry is logged (append-only)."""
    session.add(AuditLog(at=now, actor_id=actor.id if actor else None, action=action, entity=entity,
                         entity_id=entity_id, detail=detail))


def flags_for(session: Session, e164: str, viewer: User, now: datetime, settings: dict) -> dict:
    """Everything flagged about a number, trimmed to what the viewer's role needs."""
    bounds = day_bounds(now, settings)  # C2 today and the R10 window start at local midnight
    since, day_start = bounds["since"], bounds["day_start"]
    customer_id = session.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.phone == e164))
    register = None
    restriction = None
    if customer_id is not None:
        entry = session.scalar(
            select(RegisterEntry).where(RegisterEntry.customer_id == customer_id, RegisterEntry.status == "in_force",
                                        RegisterEntry.expires_at > now).order_by(RegisterEntry.marker).limit(1))
        if entry is not None:
            # R9: handlers see the marker and precautions, nothing else.
            register = {"marker": entry.marker, "precautions": entry.precautions}
            if viewer.role in MANAGER_ROLES:
                register.update(entry_id=entry.id, added_on=_iso(entry.added_on),
                                last_reviewed_on=_iso(entry.last_reviewed_on))
            audit(session, viewer, "view", "register_entry", entry.id, now, via="caller_flags")
        active = session.scalar(select(Restriction).where(Restriction.customer_id == customer_id,
                                                          Restriction.status == "active")
                                .order_by(Restriction.id.desc()).limit(1))
        if active is not None:
            restriction = {"kind": active.kind, "detail": active.detail, "named_officer_id": active.named_officer_id}
    warnings = session.scalar(select(func.count()).where(CallWarning.caller == e164, CallWarning.created_at > since))
    terminations = session.scalar(select(func.count()).where(Termination.caller == e164,
                                                             Termination.created_at > since))
    calls_today, seconds_today = session.execute(
        select(func.count(), func.coalesce(func.sum(Call.duration_s), 0))
        .where(Call.caller == e164, Call.started_at >= day_start)).one()
    recent = session.execute(
        select(Call.call_sid, Call.started_at, Call.status, Call.duration_s)
        .where(Call.caller == e164).order_by(Call.started_at.desc()).limit(10)).all()
    result = {
        "caller": e164,
        "register": register,
        "restriction": restriction,
        "signals": {
            "warnings": warnings, "terminations": terminations, "window_days": settings["repeat_window_days"],
            "calls_today": calls_today, "call_seconds_today": int(seconds_today),
            "flags": repeat_signals(warnings, terminations, max(0, calls_today - 1), settings)
            + volume_signals(0, int(seconds_today), 0, settings),  # C2 call time (call_flows/signals.py)
        },
        "recent_calls": [{"call_sid": r.call_sid, "started_at": _iso(r.started_at), "status": r.status,
                          "duration_s": r.duration_s} for r in recent],
    }
    return result


def _iso(value):
    return value.isoformat() if value else None
