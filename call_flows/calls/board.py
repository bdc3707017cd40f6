"""The supervisor's live board (issue 6; R1, R10, T1-T3, I7): a full snapshot that the page fetches
on every (re)connect and after every live event, so a lost event or a restart never leaves the
board wrong for long. Every ringing call is shown (no team owns it yet), then the connected and
recently ended-for-behaviour calls of the supervisor's teams, serious incidents on top."""
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Integer, Row, String, TextualSelect, column, select, text
from sqlalchemy.orm import Session, load_only

from call_flows.calls import recovery
from call_flows.clock import as_utc
from call_flows.models import Call, CallWarning, Incident, Team, Termination, User
from call_flows.models.base import UTCDateTime
from call_flows.labels import MARKERS
from call_flows.many import cached_text, int_in, rows_cte
from call_flows.staff.people import SHOWN_NAME
from call_flows.phone import mask
from call_flows.calls.ring import FLAGS_SELECT, day_bounds, repeat_signals
from call_flows.register.shown import Behind, entries_shown_once
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

# Ring time's flags and, for the R9 views of the markers shown, the entry behind each marker and the
# viewer's last logged view of it, in one statement (issue 13: the board probed every caller's
# register entries twice, in two queries). Per (caller, ring marker): the entry in force with the most
# serious marker (its marker is FLAGS_SELECT's: the least, NULLs last on every database), else the
# caller's latest entry with the ring marker (what was shown when nothing is in force now,
# register.shown._BEHIND's rule); the other flags are FLAGS_SELECT's own probes.
_FLAGS_AFTER_MARKER = FLAGS_SELECT.split(" AS marker,\n", 1)[1].replace(":caller", "i.caller")
_FLAGS_AND_ENTRIES = """,
i AS MATERIALIZED (SELECT v.caller, v.ring_marker,
  (SELECT re.id FROM customer_phones cp JOIN register_entries re ON re.customer_id = cp.customer_id
    WHERE cp.phone = v.caller AND re.status = 'in_force' AND re.expires_at > :now
    ORDER BY re.marker IS NULL, re.marker, re.id LIMIT 1) AS in_force_id FROM v),
f AS MATERIALIZED (SELECT i.caller, i.ring_marker,
  (SELECT re.marker FROM register_entries re WHERE re.id = i.in_force_id) AS marker,
""" + _FLAGS_AFTER_MARKER + """,
  coalesce(i.in_force_id, CASE WHEN i.ring_marker IS NOT NULL THEN
    (SELECT max(re.id) FROM customer_phones cp JOIN register_entries re ON re.customer_id = cp.customer_id
      WHERE cp.phone = i.caller AND re.marker = i.ring_marker) END) AS entry_id
  FROM i)
SELECT f.*, CASE WHEN f.entry_id IS NOT NULL THEN (SELECT max(a.at) FROM audit_log a WHERE a.actor_id = :viewer
    AND a.entity = 'register_entry' AND a.entity_id = f.entry_id) END AS last_seen
FROM f"""


@lru_cache(maxsize=64)
def _flags_and_entries_statement(sql: str) -> TextualSelect:
    """The statement, built once per text, its columns typed (last_seen as UTCDateTime on every database)."""
    return text(sql).columns(column("caller", String), column("ring_marker", Integer), column("marker", Integer),
                             column("restriction_id", Integer), column("warnings", Integer),
                             column("terminations", Integer), column("calls_today", Integer),
                             column("entry_id", Integer), column("last_seen", UTCDateTime()))


def _flags_and_entries(session: Session, calls: list[Call], now: datetime, settings: OrgSettings, viewer: User
                       ) -> tuple[dict[str, Row[Any]], dict[tuple[str, int | None], Row[Any]]]:
    """`_flags_many` for the calls' callers and the entries behind their markers (see above) in one
    query: ({caller: flags row}, {(caller, ring marker): row with entry_id and last_seen})."""
    pairs = list(dict.fromkeys((c.caller, c.ring_marker) for c in calls if c.caller))
    if not pairs:
        return {}, {}
    cte, params = rows_cte(session, "v", [("caller", "text"), ("ring_marker", "integer")], pairs)
    rows = session.execute(_flags_and_entries_statement(f"WITH {cte}{_FLAGS_AND_ENTRIES}"),
                           {"now": now, "viewer": viewer.id, **day_bounds(now, settings), **params}).all()
    return {row.caller: row for row in rows}, {(row.caller, row.ring_marker): row for row in rows}


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
               names: dict[int, str], terminations: dict[int, Termination] | None = None,
               shown_to: tuple[User, str] | None = None,
               warnings: dict[int, list[CallWarning]] | None = None) -> list[Card]:
    """The calls as the board and console show them, in order; numbers masked to their last 4 digits
    (CONTRACT). Three queries whatever the number of calls (warnings, terminations, flags); one when
    the caller already read the calls' `terminations` ({call id: termination}) and `warnings` ({call
    id: its warnings, oldest first}), e.g. joined to the calls.
    `shown_to` (viewer, via): the cards are shown to the viewer, so each marker on them is a view of its
    register entry (R9), logged once per viewer and call (register.shown.markers_shown's rule); the
    entries come with the flags, and the views cost one INSERT when there are any."""
    ids = [c.id for c in calls]
    if warnings is None:
        warnings = {i: [] for i in ids}
        for w in session.scalars(select(CallWarning).where(int_in(session, CallWarning.call_id, "call_ids", ids))
                                 .order_by(CallWarning.created_at, CallWarning.id)) if ids else ():
            warnings[w.call_id].append(w)
    if ids:
        if terminations is None:
            terminations = {t.call_id: t for t in session.scalars(
                select(Termination).where(int_in(session, Termination.call_id, "call_ids", ids)))}
    terminations = terminations or {}
    if shown_to is None:
        flags = _flags_many(session, list(dict.fromkeys(c.caller for c in calls if c.caller)), now, settings)
    else:
        flags, entries = _flags_and_entries(session, calls, now, settings, shown_to[0])
    cards = [Card(c, warnings[c.id], terminations.get(c.id), _flags(flags.get(c.caller) if c.caller else None, c, settings),
                  teams.get(c.team_id) if c.team_id else None, names.get(c.handler_id) if c.handler_id else None)
             for c in calls]
    if shown_to is not None:
        entries_shown_once(session, shown_to[0], [(_behind(entries, c, card.flags["marker"]), as_utc(c.started_at))
                                                  for c, card in zip(calls, cards, strict=True)], now, shown_to[1])
    return cards


def _behind(entries: dict[tuple[str, int | None], Row[Any]], call: Call, marker: int | None) -> Behind | None:
    """The entry behind the marker a card shows, with the viewer's last logged view of it (or None)."""
    row = entries.get((call.caller, call.ring_marker)) if call.caller and marker else None
    return (row.entry_id, row.last_seen) if row is not None and row.entry_id is not None else None


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
    ringing, team_calls, terminations, warnings, names = _board_calls(session, now, chosen)
    # R9: each marker shown is a view of its register entry, logged once per call for this supervisor.
    cards = call_cards(session, ringing + team_calls, now, settings, teams, names, terminations, (viewer, "board"),
                       warnings)
    ringing_cards, team_cards = cards[:len(ringing)], cards[len(ringing):]
    team_cards.sort(key=lambda c: (not c.serious, c.termination is None and not c.warnings))

    serious = session.execute(
        select(Incident, Call.caller, SHOWN_NAME).outerjoin(Call, Call.id == Incident.call_id)
        .outerjoin(User, User.id == Incident.staff_id)
        .where(Incident.serious.is_(True), Incident.status == IncidentStatus.OPEN, Incident.team_id.in_(chosen))
        .order_by(Incident.opened_at.desc())).all()
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
_CARD_WARNING = load_only(CallWarning.call_id, CallWarning.reason, CallWarning.created_at, CallWarning.platform_status,
                          raiseload=True)


def _board_calls(session: Session, now: datetime, chosen: list[int]
                 ) -> tuple[list[Call], list[Call], dict[int, Termination], dict[int, list[CallWarning]], dict[int, str]]:
    """The board's calls in one query: the ringing calls (oldest first) and the chosen teams' calls
    (latest answered first), with each one's termination, warnings (oldest first; a row per warning)
    and its handler's shown name."""
    ringing = select(Call.id).where(Call.status.in_(WAITING), Call.handler_id.is_(None),
                                    Call.started_at > now - RING_STALE)
    # live calls (ix_calls_live) or ended recently (ix_terminations_created): a union, not an OR, so
    # neither side scans the table of every call ever taken
    on_board = select(Call.id).where(Call.status.in_(LIVE)).union(
        select(Termination.call_id).where(Termination.created_at > now - RECENT_END))
    team = select(Call.id).where(Call.team_id.in_(chosen), Call.handler_id.is_not(None), Call.id.in_(on_board))
    rows = session.execute(select(Call, Termination, SHOWN_NAME, CallWarning)
                           .outerjoin(Termination, Termination.call_id == Call.id)
                           .outerjoin(User, User.id == Call.handler_id).outerjoin(CallWarning, CallWarning.call_id == Call.id)
                           .where(Call.id.in_(ringing.union_all(team))).options(_CARD_CALL, _CARD_TERMINATION, _CARD_WARNING)
                           .order_by(Call.id, CallWarning.created_at, CallWarning.id)).all()
    calls: dict[int, Call] = {}  # each call once, in id order
    terminations: dict[int, Termination] = {}
    warnings: dict[int, list[CallWarning]] = {}
    names: dict[int, str] = {}
    for c, t, name, w in rows:
        if c.id not in calls:
            calls[c.id], warnings[c.id] = c, []
            if t is not None:
                terminations[c.id] = t
            if c.handler_id is not None:
                names[c.handler_id] = name
        if w is not None:
            warnings[c.id].append(w)
    waiting = sorted((c for c in calls.values() if c.handler_id is None), key=lambda c: as_utc(c.started_at))
    # as PostgreSQL's ORDER BY answered_at DESC: not answered (NULL) first, ties in the order read
    taken = sorted((c for c in calls.values() if c.handler_id is not None), reverse=True,
                   key=lambda c: (c.answered_at is None, as_utc(c.answered_at) if c.answered_at else now))
    return waiting, taken, terminations, warnings, names
