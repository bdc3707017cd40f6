"""Ring time (R1, R10, C2, C3): record the call and find the caller's flags in one round trip.

This is the hot path: the flags are indexed scalar subqueries, no ORM objects are loaded. The
portable statement here is one SELECT and one INSERT in a transaction (SQLite, the embedded default,
cannot put an INSERT in a CTE); on PostgreSQL the ring view passes the storage adapter's statement
(storage/ring.py: one prepared data-modifying CTE, one round trip). Either way "calls today" counts
the calls before this one.
"""
from collections.abc import Callable, Mapping
from typing import Any
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import JSON, bindparam, text
from sqlalchemy.engine import Connection

from call_flows.clock import day_start, local_date
from call_flows.phone import Caller, stored_text
from call_flows.settings import OrgSettings

FLAGS_SELECT = """
SELECT
  (SELECT min(re.marker) FROM customer_phones cp
     JOIN register_entries re ON re.customer_id = cp.customer_id
    WHERE cp.phone = :caller AND re.status = 'in_force' AND re.expires_at > :now) AS marker,
  (SELECT r.id FROM customer_phones cp
     JOIN restrictions r ON r.customer_id = cp.customer_id
    WHERE cp.phone = :caller AND r.status = 'active' ORDER BY r.id DESC LIMIT 1) AS restriction_id,
  (SELECT count(*) FROM warnings w WHERE w.caller = :caller AND w.created_at > :since) AS warnings,
  (SELECT count(*) FROM terminations t WHERE t.caller = :caller AND t.created_at > :since) AS terminations,
  (SELECT count(*) FROM calls c WHERE c.caller = :caller AND c.started_at >= :day_start
      AND c.direction = 'inbound') AS calls_today
"""

CALL_INSERT = """
INSERT INTO calls (call_sid, direction, caller, caller_kind, caller_raw, called, status, started_at)
VALUES (:call_sid, 'inbound', :caller, :kind, :raw, :called, 'ringing', :now)
ON CONFLICT (call_sid) DO NOTHING
"""

# Built once: text() parses its bind parameters with a regex, which is measurable on the hot path.
_FLAGS_SELECT = text(FLAGS_SELECT)
_CALL_INSERT = text(CALL_INSERT)
_RESTRICTION = text("SELECT kind, detail, named_officer_id, hours FROM restrictions WHERE id = :id")
_STORE_FLAGS = text("UPDATE calls SET ring_marker = :marker, ring_signals = :signals, ring_restricted = :restricted "
                    "WHERE call_sid = :call_sid").bindparams(bindparam("signals", type_=JSON))


@dataclass(frozen=True)
class RingFlags:
    """What ring time knows about a caller. Empty for withheld and unknown callers."""

    marker: int | None = None
    restriction_id: int | None = None
    warnings: int = 0
    terminations: int = 0
    calls_today: int = 0
    new_call: bool = True
    signals: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.marker or self.restriction_id or self.signals)


def repeat_signals(warnings: int, terminations: int, calls_today: int, settings: OrgSettings) -> list[str]:
    """R10 and C2: automatic signals (not register markers); they inform, never block."""
    signals = []  # thresholds are organisation settings (register area: call_flows/calls/signals.py)
    if warnings >= settings.repeat_warnings_threshold:
        signals.append("repeat_warnings")
    if terminations >= settings.repeat_terminations_threshold:
        signals.append("previous_termination")
    if calls_today + 1 > settings.calls_per_day_threshold:
        signals.append("many_calls_today")
    return signals


def ring_params(call_sid: str, caller: Caller, called: str | None, now: datetime, settings: OrgSettings) -> dict[str, Any]:
    """The bound parameters of the ring statement (also used by bench/ringtime.py's EXPLAIN)."""
    return {
        "call_sid": call_sid, "caller": caller.e164, "kind": caller.kind, "raw": caller.raw,
        "called": stored_text(called), "now": now,
        **day_bounds(now, settings),
    }


def day_bounds(now: datetime, settings: OrgSettings) -> dict[str, Any]:
    """C2 "today" and the R10 window, from the organisation's local midnight (clock.ORG_TIMEZONE), in UTC."""
    today = local_date(now)
    return {"since": day_start(today - timedelta(days=settings.repeat_window_days)), "day_start": day_start(today)}


RingStatement = Callable[[Connection, dict[str, Any]], tuple[Mapping[Any, Any], bool]]
"""Runs the ring statement with `ring_params`: returns (the FLAGS_SELECT row, whether the call was inserted)."""


def portable_ring(conn: Connection, params: dict[str, Any]) -> tuple[Mapping[Any, Any], bool]:
    """The ring statement on any database: the flags, then the insert (ON CONFLICT: once per CallSid)."""
    row = conn.execute(_FLAGS_SELECT, params).one()._mapping
    return row, conn.execute(_CALL_INSERT, params).rowcount == 1


def read_flags(conn: Connection, params: dict[str, Any]) -> dict[str, Any]:
    """The FLAGS_SELECT row, nothing written (the ring journal's path when the snapshot cannot answer)."""
    return dict(conn.execute(_FLAGS_SELECT, params).one()._mapping)


def record_ring(conn: Connection, call_sid: str, caller: Caller, called: str | None, now: datetime,
                settings: OrgSettings, statement: RingStatement = portable_ring) -> RingFlags:
    """Insert the call (once per CallSid) and return the caller's flags. The caller commits.
    `statement`: how the database runs it (storage.ring.ring_statement picks PostgreSQL's prepared
    one-round-trip statement, which app.db.ring_connection runs in autocommit)."""
    params = ring_params(call_sid, caller, called, now, settings)
    row, inserted = statement(conn, params)
    if not caller.is_number:
        return RingFlags(new_call=inserted)
    flags = RingFlags(
        marker=row["marker"], restriction_id=row["restriction_id"], warnings=row["warnings"],
        terminations=row["terminations"], calls_today=row["calls_today"], new_call=inserted,
        signals=repeat_signals(row["warnings"], row["terminations"], row["calls_today"], settings),
    )
    stored = row.get("stored")  # what the statement already wrote on the call row (storage.ring.snapshot_ring)
    if inserted and flags.flagged and stored != (flags.marker, flags.signals, bool(flags.restriction_id)):
        # kept as they were at ring time; most callers have none (no write)
        conn.execute(_STORE_FLAGS, {"call_sid": call_sid, "marker": flags.marker, "signals": flags.signals,
                                    "restricted": bool(flags.restriction_id)})
    return flags


def restriction_routing(conn: Connection, restriction_id: int, now: datetime, settings: OrgSettings) -> dict[str, Any] | None:
    """C3: how a restricted caller is routed. Rare, so it is a second query only when needed.

    Returns {"kind", "message", "end_call", "officer_id"}; the caller always hears something and is
    never silently dropped: outside permitted hours they are told when and how they may get in touch.
    """
    from call_flows.calls.restricted import routing_for  # the register area owns the wording

    row = conn.execute(_RESTRICTION, {"id": restriction_id}).one_or_none()
    if row is None:
        return None
    return routing_for(row.kind, row.detail, row.named_officer_id, row.hours, now)
