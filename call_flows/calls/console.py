"""What the handler's console shows (issue 6; R1, R9, T1-T4): the call connected to them with its
flags before they speak, the calls ringing that they could take, what the caller will hear on a
warning or termination, the case-note fields the service can fill (T4), and their recovery time."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from call_flows.calls import recovery
from call_flows.calls.board import RING_STALE, Card, call_card, call_cards
from call_flows.clock import as_utc
from call_flows.calls.control import heard_a_warning
from call_flows.labels import label
from call_flows.models import (Call, CallWarning, CustomerPhone, RecoveryPeriod, RegisterEntry, Restriction, Team,
                               Termination, User)
from call_flows.staff.people import shown_names
from call_flows.register.shown import shown_once
from call_flows.vocabulary import ENDED, RegisterStatus, WAITING
from call_flows.calls.twiml import final_notice
from call_flows.settings import OrgSettings

SHOW_ENDED = timedelta(minutes=10)  # a terminated call stays on the console this long, for feedback


def current_call(session: Session, user: User, now: datetime) -> Call | None:
    """The handler's live call, or the call they ended for behaviour in the last few minutes."""
    just_ended = select(Termination.call_id).where(Termination.created_at > now - SHOW_ENDED)
    live = Call.status.not_in(ENDED) & Call.id.not_in(select(Termination.call_id))
    return session.scalar(select(Call).where(Call.handler_id == user.id, Call.started_at > now - timedelta(hours=8),
                                             or_(live, Call.id.in_(just_ended)))
                          .order_by(Call.answered_at.desc(), Call.id.desc()).limit(1))


@dataclass(frozen=True)
class RegisterDetail:
    """R9: what a handler may see of the caller's register entry (its precautions) and restriction."""

    precautions: str | None
    restriction: Restriction | None


@dataclass(frozen=True)
class NotePrefill:
    """T4: the case note as the service can fill it: its reference, what the caller was told (each
    warning, then the final notice) and said, and what it knows of the call (the number, or the
    caller's kind when withheld; its start; the handler's shown name; how many warnings)."""

    case_reference: str
    told_customer: str
    customer_said_or_did: str
    caller: str
    call_started_at: datetime
    handler: str
    warnings: int


@dataclass(frozen=True)
class OwnCall:
    """The handler's own call: its card (as the board shows it), the call, its warnings (oldest first),
    the register detail (R9), the final notice the caller will hear (T3: text, whether a recording)
    and the case note's prefill (T4)."""

    card: Card
    call: Call
    warnings: list[CallWarning]
    register: RegisterDetail
    final_notice: str
    final_recording: bool
    note: NotePrefill


@dataclass(frozen=True)
class Console:
    """The console now: the handler's own call (or None), the ringing call cards (oldest first), their
    recovery period (or None) and the organisation settings (the messages callers hear)."""

    at: datetime
    call: OwnCall | None
    ringing: list[Card]
    recovery: RecoveryPeriod | None
    settings: OrgSettings


def register_detail(session: Session, e164: str | None, now: datetime, viewer: User | None = None,
                    since: datetime | None = None) -> RegisterDetail:
    """R9: a handler sees the marker's precautions and the restriction's terms, nothing more; the view
    is logged once per call (`since` = the call's start), however often the console refreshes."""
    if not e164:
        return RegisterDetail(None, None)
    customer_id = session.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.phone == e164))
    if customer_id is None:
        return RegisterDetail(None, None)
    entry = session.scalar(select(RegisterEntry).where(
        RegisterEntry.customer_id == customer_id, RegisterEntry.status == RegisterStatus.IN_FORCE,
        RegisterEntry.expires_at > now).order_by(RegisterEntry.marker).limit(1))
    active = session.scalar(select(Restriction).where(Restriction.customer_id == customer_id,
                                                      Restriction.status == "active")
                            .order_by(Restriction.id.desc()).limit(1))
    if entry is not None and viewer is not None and since is not None:
        shown_once(session, viewer, entry.id, since, now, "console")
    return RegisterDetail(entry.precautions if entry else None, active)


def note_prefill(call: Call, warnings: list[CallWarning], handler: User, termination_message: str) -> NotePrefill:
    """T4: what the service knows, so the handler only completes the rest."""
    told = [f"{as_utc(w.created_at):%H:%M} UTC: warned that the call would not continue unless their behaviour "
            f"improved ({label('warning_reason', w.reason).lower()})" for w in warnings]
    told.append(f"Told the call would now end: \"{termination_message}\"")
    said = [w.detail for w in warnings if w.detail]
    return NotePrefill(f"CALL-{call.call_sid}", "; ".join(told), "; ".join(said), call.caller or call.caller_kind,
                       as_utc(call.started_at), handler.shown_name, len(warnings))


def state(session: Session, user: User, now: datetime, settings: OrgSettings) -> Console:
    """The console's full state; fetched on load, on every live event and on (re)connect."""
    teams = {t.id: t for t in session.scalars(select(Team))}
    names = shown_names(session)
    call = current_call(session, user, now)
    own = None
    if call is not None:
        warnings = list(session.scalars(select(CallWarning).where(CallWarning.call_id == call.id)
                                        .order_by(CallWarning.created_at)))
        register = register_detail(session, call.caller, now, user, as_utc(call.started_at))
        # T3: the final notice the caller will really hear (after a warning they heard, or the immediate one)
        text, recording_url = final_notice(settings, heard_a_warning(session, call.id))
        own = OwnCall(call_card(session, call, now, settings, teams, names), call, warnings, register, text,
                      bool(recording_url), note_prefill(call, warnings, user, text))
    ringing = list(session.scalars(select(Call).where(Call.status.in_(WAITING), Call.handler_id.is_(None),
                                                      Call.started_at > now - RING_STALE).order_by(Call.started_at)))
    # 3 queries, not 3 per call; R9: each marker shown on a ringing call is a view of its entry, logged
    # once per call for this handler (the entries come with the flags)
    ringing_cards = call_cards(session, ringing, now, settings, teams, names, shown_to=(user, "console"))
    return Console(now, own, ringing_cards, recovery.current(session, user.id, now), settings)
