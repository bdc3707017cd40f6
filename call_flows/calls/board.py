"""The supervisor's live board (issue 6; R1, R10, T1-T3, I7): a full snapshot that the page fetches
on every (re)connect and after every live event, so a lost event or a restart never leaves the
board wrong for long. Every ringing call is shown (no team owns it yet), then the connected and
recently ended-for-behaviour calls of the supervisor's teams, serious incidents on top."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, load_only

from call_flows.calls import recovery
from call_flows.clock import as_utc
from call_flows.models import Call, CallWarning, Incident, Team, Termination, User
from call_flows.labels import MARKERS
from call_flows.many import cached_text, int_in, rows_cte
from call_flows.staff.people import SHOWN_NAME
from call_flows.phone import mask
from call_flows.calls.ring import FLAGS_SELECT, day_bounds, repeat_signals
from call_flows.register.shown import markers_shown
from call_flows.vocabulary import ImmediateReason, IncidentStatus, LIVE, WAITING
from call_flows.settings import OrgSettings

RING_STALE = timedelta(minutes=15)  # a "ringing" call older than this lost its status callback
RECENT_END = timedelta(minutes=30)  # terminated calls stay on the board this long


def _flags_many(session: Session, callers: list[str], now: datetime, settings: OrgSettings) -> dict[str, Row[Any]]:
    """Ring time's flag statement (ring.FLAGS_SELECT) for many callers in one round trip: each
    caller's row of indexed probes, keyed by number (issue 13: the board's cost does not grow per card;
    on PostgreSQL the callers go as one array, so the statement's text is always the same)."""
    if not callers:
        return {}
    cte, params = rows_cte(session, "v", [("caller", "text")], [(c,) for c in callers])
    sql = f"WITH {cte} " + _FLAGS_OF_V + " FROM v"
    return {row.caller: row for row in session.execute(cached_text(sql), {"now": now, **day_bounds(now, settings), **params})}


_FLAGS_OF_V = FLAGS_SELECT.replace(":caller", "v.caller").replace("SELECT\n", "SELECT v.caller AS caller,\n", 1)


def flags_json(marker: int | None, restriction_id: int | None, signals: list[str]) -> dict[str, Any]:
    """A caller's flags as a card shows them (R1 marker with its R2 label, C3 restriction, R10/C2 signals):
    the one shape the snapshot and ring time's own card (call_flows.calls.live_card) both give."""
    return {"marker": marker, "marker_label": MARKERS.get(marker) if marker else None, "restricted": bool(restriction_id),
            "restriction_id": restriction_id, "signals": signals, "flagged": bool(marker or restriction_id or signals)}


def _flags(row: Row[Any] | None, call: Call, settings: OrgSettings) -> dict[str, Any]:
    """R1/R10/C2/C3 flags of the call's caller from its FLAGS_SELECT row (marker, signals, restriction)."""
    if row is None:
        return flags_json(None, None, [])
    calls_before = max(0, row.calls_today - 1)  # ring time counts the calls before this one
    signals = repeat_signals(row.warnings, row.terminations, calls_before, settings)
    return flags_json(row.marker or call.ring_marker, row.restriction_id, signals)


def caller_flags(session: Session, call: Call, now: datetime, settings: OrgSettings) -> dict[str, Any]:
    """R1/R10/C2/C3 flags of the call's caller, as ring time saw them (marker, signals, restriction)."""
    rows = _flags_many(session, [call.caller] if call.caller else [], now, settings)
    return _flags(rows.get(call.caller) if call.caller else None, call, settings)


def visible_team_ids(session: Session, viewer: User) -> list[int] | None:
    """A supervisor with a team watches that team; one without a team watches every team (None)."""
    return [viewer.team_id] if viewer.team_id else None


@dataclass(frozen=True)
class Card:
    """A call as the board and console show it: the call, its warnings (oldest first), its termination,
    its caller's flags (`caller_flags`' shape), its team and its handler's shown name."""

    call: Call
    warnings: list[CallWarning]
    termination: Termination | None
    flags: dict[str, Any]
    team: Team | None
    handler: str | None

    @property
    def serious(self) -> bool:
        """I7: the call was ended for a threat of violence."""
        return self.termination is not None and self.termination.immediate_reason == ImmediateReason.THREAT_OF_VIOLENCE


def call_cards(session: Session, calls: list[Call], now: datetime, settings: OrgSettings, teams: dict[int, Team],
               names: dict[int, str], terminations: dict[int, Termination] | None = None) -> list[Card]:
    """The calls as the board and console show them, in order; numbers masked to their last 4 digits
    (CONTRACT). Three queries whatever the number of calls (warnings, terminations, flags); two when
    the caller already read the calls' `terminations` ({call id: termination}, e.g. joined to the calls)."""
    ids = [c.id for c in calls]
    warnings: dict[int, list[CallWarning]] = {i: [] for i in ids}
    if ids:
        for w in session.scalars(select(CallWarning).where(int_in(session, CallWarning.call_id, "call_ids", ids))
                                 .order_by(CallWarning.created_at, CallWarning.id)):
            warnings[w.call_id].append(w)
        if terminations is None:
            terminations = {t.call_id: t for t in session.scalars(
                select(Termination).where(int_in(session, Termination.call_id, "call_ids", ids)))}
    terminations = terminations or {}
    flags = _flags_many(session, list(dict.fromkeys(c.caller for c in calls if c.caller)), now, settings)
    return [Card(c, warnings[c.id], terminations.get(c.id), _flags(flags.get(c.caller) if c.caller else None, c, settings),
                 teams.get(c.team_id) if c.team_id else None, names.get(c.handler_id) if c.handler_id else None)
            for c in calls]


def call_card(session: Session, call: Call, now: datetime, settings: OrgSettings, teams: dict[int, Team],
              names: dict[int, str]) -> Card:
    """One call as the board and console show it (see `call_cards`)."""
    return call_cards(session, [call], now, settings, teams, names)[0]


class Serious(NamedTuple):
    """An open serious incident (I7) of a chosen team: its team's and handler's names, the caller masked."""

    incident: Incident
    team: str | None
    handler: str | None
    caller: str | None


@dataclass(frozen=True)
class Board:
    """The board now: the filters asked for, the teams watched (by name), their sites, serious incidents
    (newest first), ringing call cards (flagged first), the team's call cards (serious first) and who
    is in recovery time."""

    at: datetime
    team_id: int | None
    site: str | None
    teams: list[Team]
    serious: list[Serious]
    ringing: list[Card]
    calls: list[Card]
    recovering: list[recovery.Recovering]


def snapshot(session: Session, viewer: User, now: datetime, settings: OrgSettings, team_id: int | None = None,
             site: str | None = None) -> Board:
    """Everything the board shows now. `team_id`/`site` narrow the team calls; ringing calls are
    everyone's until someone takes them, so they are always shown (CONTRACT /board)."""
    team_ids = visible_team_ids(session, viewer)
    teams = {t.id: t for t in session.scalars(select(Team).order_by(Team.name))}
    watched = [t for t in teams.values() if team_ids is None or t.id in team_ids]
    chosen = [t.id for t in watched if (team_id is None or t.id == team_id) and (not site or t.site == site)]
    ringing, team_calls, terminations, names = _board_calls(session, now, chosen)
    cards = call_cards(session, ringing + team_calls, now, settings, teams, names, terminations)
    ringing_cards, team_cards = cards[:len(ringing)], cards[len(ringing):]
    team_cards.sort(key=lambda c: (not c.serious, c.termination is None and not c.warnings))

    serious = session.execute(
        select(Incident, Call.caller, SHOWN_NAME).outerjoin(Call, Call.id == Incident.call_id)
        .outerjoin(User, User.id == Incident.staff_id)
        .where(Incident.serious.is_(True), Incident.status == IncidentStatus.OPEN, Incident.team_id.in_(chosen))
        .order_by(Incident.opened_at.desc())).all()
    # R9: each marker shown is a view of its register entry, logged once per call for this supervisor.
    markers_shown(session, viewer, [(c.caller, card.flags["marker"], as_utc(c.started_at))
                                    for c, card in zip(ringing + team_calls, cards, strict=True)], now, "board")
    ringing_cards.sort(key=lambda c: (c.flags["marker"] or 9, not c.flags["signals"], as_utc(c.call.started_at)))
    return Board(now, team_id, site, watched,
                 [Serious(i, teams[i.team_id].name if i.team_id in teams else None, staff, mask(caller) if i.call_id else None)
                  for i, caller, staff in serious],
                 ringing_cards, team_cards, recovery.recovering(session, now, chosen))


# Only what a card shows (card_json, Card.serious, the flags, the sorts): a third of the loading's CPU.
_CARD_CALL = load_only(Call.call_sid, Call.caller, Call.caller_kind, Call.status, Call.started_at, Call.answered_at,
                       Call.handler_id, Call.team_id, Call.ring_marker, Call.needs_note, raiseload=True)
_CARD_TERMINATION = load_only(Termination.call_id, Termination.reason, Termination.immediate_reason,
                              Termination.created_at, Termination.platform_status, raiseload=True)


def _board_calls(session: Session, now: datetime, chosen: list[int]
                 ) -> tuple[list[Call], list[Call], dict[int, Termination], dict[int, str]]:
    """The board's calls in one query: the ringing calls (oldest first) and the chosen teams' calls
    (latest answered first), with each one's termination and its handler's shown name."""
    ringing = select(Call.id).where(Call.status.in_(WAITING), Call.handler_id.is_(None),
                                    Call.started_at > now - RING_STALE)
    # live calls (ix_calls_live) or ended recently (ix_terminations_created): a union, not an OR, so
    # neither side scans the table of every call ever taken
    on_board = select(Call.id).where(Call.status.in_(LIVE)).union(
        select(Termination.call_id).where(Termination.created_at > now - RECENT_END))
    team = select(Call.id).where(Call.team_id.in_(chosen), Call.handler_id.is_not(None), Call.id.in_(on_board))
    rows = session.execute(select(Call, Termination, SHOWN_NAME).outerjoin(Termination, Termination.call_id == Call.id)
                           .outerjoin(User, User.id == Call.handler_id).where(Call.id.in_(ringing.union_all(team)))
                           .options(_CARD_CALL, _CARD_TERMINATION).order_by(Call.id)).all()
    terminations = {c.id: t for c, t, _ in rows if t is not None}
    names = {c.handler_id: name for c, _, name in rows if c.handler_id is not None}
    waiting = sorted((c for c, _, _ in rows if c.handler_id is None), key=lambda c: as_utc(c.started_at))
    # as PostgreSQL's ORDER BY answered_at DESC: not answered (NULL) first, ties in the order read
    taken = sorted((c for c, _, _ in rows if c.handler_id is not None), reverse=True,
                   key=lambda c: (c.answered_at is None, as_utc(c.answered_at) if c.answered_at else now))
    return waiting, taken, terminations, names
