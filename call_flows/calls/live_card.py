"""The card a live call event carries (issue 13 item 4): the call as the board's snapshot shows it
(`board.call_cards`), built once per event when the unit of work publishes it, so each open board
updates that card in place instead of refetching the whole snapshot. A fixed number of queries per
event, whatever the number of open boards; who receives the card is live_scope's rule (R9)."""
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows import settings as org_settings
from call_flows.calls.board import RECENT_END, RING_STALE, Card, call_cards, flags_json
from call_flows.clock import as_utc, utcnow
from call_flows.labels import label
from call_flows.phone import Caller, area, call_label, mask
from call_flows.models import Call, Team
from call_flows.staff.live_scope import CALL_KINDS
from call_flows.staff.people import shown_names
from call_flows.vocabulary import LIVE, WAITING, CallStatus


def place(call: Call, card: dict[str, Any], now: datetime) -> str | None:
    """Where the snapshot puts the call: "ringing" (nobody took it yet, R1), "calls" (a team's live
    or recently ended-for-behaviour call) or None (off the board), by the snapshot's own rules."""
    if call.status in WAITING and call.handler_id is None:
        return "ringing" if as_utc(call.started_at) > now - RING_STALE else None
    if call.handler_id is None or call.team_id is None:
        return None
    if call.status in LIVE:
        return "calls"
    ended = card["termination"]
    return "calls" if ended and datetime.fromisoformat(ended["at"]) > now - RECENT_END else None


def with_card(session: Session, live: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """`live` with `card` (the call's board card, numbers masked) and `place` (see `place`) when it
    is a call event of a call on record; other events unchanged. Read in a session of its own on
    `session`'s connection, so the card is the call as stored now (a job that already ran, e.g. the
    warning played, shows), not as `session` last loaded it. Seven queries at most (the call, its
    team, handler name, settings, then the card's warnings, termination and flags)."""
    if live.get("kind") not in CALL_KINDS or not live.get("call_sid"):
        return live
    if live.get("card") is not None:
        return with_known_card(live)
    with Session(bind=session.get_bind()) as fresh:
        return _with_card(fresh, live, now)


def with_known_card(live: dict[str, Any]) -> dict[str, Any]:
    """A call event that carries its card already: ring time built it (`ringing_card`), a ringing card."""
    return {**live, "place": "ringing"}


def _with_card(session: Session, live: dict[str, Any], now: datetime | None) -> dict[str, Any]:
    call = session.scalar(select(Call).where(Call.call_sid == live["call_sid"]))
    if call is None:
        return live
    now = now or utcnow()
    teams = {t.id: t for t in session.scalars(select(Team).where(Team.id == call.team_id))} if call.team_id else {}
    card = card_json(call_cards(session, [call], now, org_settings.load(session), teams,
                               shown_names(session, [call.handler_id]))[0])
    return {**live, "card": card, "place": place(call, card, now)}


def ringing_card(call_sid: str, caller: Caller, marker: int | None, restriction_id: int | None,
                 signals: list[str], at: datetime) -> dict[str, Any]:
    """The board card of a call that just rang (R1, R10, C3: its ring-time flags), from what ring time
    already knows: no query on the ring's path. Nobody has taken it, nothing noted, warned or ended.
    `card_json` of such a call, key for key, written out: building an ORM Call for it was a tenth of
    a ring's CPU (issue 13; tests/test_board_live_cards.py holds the two equal)."""
    return {
        "call_sid": call_sid, "status": CallStatus.RINGING, "caller": mask(caller.e164) if caller.e164 else caller.kind,
        "caller_kind": caller.kind, "caller_area": caller.area_name, "call_label": call_label(call_sid),
        "started_at": as_utc(at).isoformat(), "answered_at": None, "handler": None, "team_id": None,
        "team": None, "site": None, "need_noted": False, "warnings": [], "termination": None, "serious": False,
        **flags_json(marker, restriction_id, list(signals)),
    }


def card_json(card: Card) -> dict[str, Any]:
    """A call on the board or console: the number masked to its last 4 digits (CONTRACT, R9) with its
    area and call label (14.8), ISO UTC times, team, handler, warnings (T1), termination (T3; `serious`
    for I7) and the caller's flags (R1, R10, C3) at the top level."""
    call, team, termination = card.call, card.team, card.termination
    return {
        "call_sid": call.call_sid, "status": call.status, "caller": mask(call.caller) if call.caller
        else call.caller_kind, "caller_kind": call.caller_kind,
        "caller_area": area(call.caller), "call_label": call_label(call.call_sid),
        "started_at": as_utc(call.started_at).isoformat(),
        "answered_at": as_utc(call.answered_at).isoformat() if call.answered_at else None,
        "handler": card.handler, "team_id": call.team_id,
        "team": team.name if team else None, "site": team.site if team else None,
        "need_noted": bool(call.needs_note),
        "warnings": [{"reason": w.reason, "reason_label": label("warning_reason", w.reason),
                      "at": as_utc(w.created_at).isoformat(), "platform_status": w.platform_status}
                     for w in card.warnings],
        "termination": None if termination is None else {
            "reason": termination.reason, "immediate_reason": termination.immediate_reason,
            "reason_label": label("reason", termination.immediate_reason or termination.reason),
            "at": as_utc(termination.created_at).isoformat(), "platform_status": termination.platform_status},
        "serious": card.serious,
        **card.flags,
    }
