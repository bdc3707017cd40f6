"""The ring journal's wire format (storage/ring_journal.py, issue 13): its Redis keys, its Lua scripts,
the SQL that writes its rows, and the row and live-event versions ring time sends. What is stored and
how; ring_journal.py decides when."""
import json
from datetime import date, datetime

from sqlalchemy import text

from call_flows.calls.ring import RingFlags
from call_flows.phone import Caller, stored_text

PENDING = "callguard:ring:pending"
REFUSED = "callguard:ring:refused"  # rows the database refused, set aside for an operator (CallSid -> row)
FLUSH_LOCK = "callguard:ring:flush-lock"
DAY_TTL_S = 2 * 24 * 3600  # a day's sets outlive the day (a call that rang at 23:59 is still counted then)

NOT_READY, REPEATED, SEEN = -1, -2, -3
"""The script's answers besides a count: the day's counts not ready; a repeated webhook whose row is
waiting; a CallSid counted already whose row is not waiting (written already, or never: a ring
whose database insert failed, or whose first script ran and was not answered). For SEEN the
database statement decides, as it is once per CallSid."""


# KEYS: the day's ready mark, the caller's set for the day, the pending rows.
# ARGV: CallSid, C2 threshold, row, row with C2, event, event with C2, channel, TTL,
#       '1' to forget the ready mark first, '1' to count (a number).
# Answers NOT_READY, REPEATED, SEEN (see there) or the calls today before this one.
RING_LUA = """
if ARGV[9] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('INCR', KEYS[1] .. ':gen')
  redis.call('EXPIRE', KEYS[1] .. ':gen', ARGV[8])
end
local added = redis.call('SADD', KEYS[2], ARGV[1])
local size = redis.call('SCARD', KEYS[2])
if added == 1 and size == 1 then redis.call('EXPIRE', KEYS[2], ARGV[8]) end
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if added == 0 then
  if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return -2 end
  return -3
end
local prior = 0
if ARGV[10] == '1' then prior = size - 1 end
if prior + 1 > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
  redis.call('PUBLISH', ARGV[7], ARGV[6])
else
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
  redis.call('PUBLISH', ARGV[7], ARGV[5])
end
return prior
"""

RELEASE_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

# KEYS: the day's ready mark. ARGV: the generation the rebuild started at, TTL. Marks the day ready only
# if nobody forgot it meanwhile (a rebuild that began before another process's database-only rings
# were committed must not mark a day that lacks them).
READY_LUA = """
if (redis.call('GET', KEYS[1] .. ':gen') or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
return 1
"""

FLUSH_SQL = text("""
INSERT INTO calls (call_sid, direction, caller, caller_kind, caller_raw, called, status, started_at,
                   ring_marker, ring_signals, ring_restricted)
SELECT r.call_sid, 'inbound', r.caller, r.caller_kind, r.caller_raw, r.called, 'ringing', r.started_at,
       r.ring_marker, r.ring_signals, r.ring_restricted
FROM json_to_recordset(CAST(:rows AS json)) AS r(call_sid text, caller text, caller_kind text, caller_raw text,
     called text, started_at timestamptz, ring_marker integer, ring_signals json, ring_restricted boolean)
ON CONFLICT (call_sid) DO NOTHING""")
"""The pending rows into `calls`, as storage.ring.PG_RING_COUNT would have inserted them."""

DAY_CALLS = text("SELECT caller, call_sid FROM calls WHERE caller IS NOT NULL AND direction = 'inbound' "
                 "AND started_at >= :start AND started_at < :end")
"""C2 counts the caller's own calls: a manager's callback leg to them (direction 'callback') is not one."""


def day_key(day: date, suffix: str) -> str:
    return f"callguard:c2:{day.isoformat()}:{suffix}"


def set_key(day: date, caller: Caller) -> str:
    return day_key(day, caller.e164 if caller.is_number and caller.e164 else "-")


def row_json(call_sid: str, caller: Caller, called: str | None, now: datetime, flags: RingFlags, c2: bool) -> str:
    """The call's row as PG_RING_COUNT stores it: the ring-time flags only when there are any."""
    flagged = bool(flags.marker or flags.restriction_id or [s for s in flags.signals if s != "many_calls_today"])
    kept = flagged or c2
    return json.dumps({
        "call_sid": call_sid, "caller": caller.e164, "caller_kind": caller.kind, "caller_raw": caller.raw,
        "called": stored_text(called), "started_at": now.isoformat(), "ring_marker": flags.marker,
        "ring_signals": flags.signals if kept else None,
        "ring_restricted": bool(flags.restriction_id) if kept else None})


def c2_version(text: str, base: RingFlags, with_c2: RingFlags) -> str:
    """`text`, the JSON of a live event built from `base`, as built from `with_c2` (C2 added): only the
    signals lists and the card's `flagged` differ, so the second version is two replacements instead of
    a second card and dump (JSON escapes the quotes inside values: only real keys match)."""
    text = text.replace(f'"signals": {json.dumps(base.signals)}', f'"signals": {json.dumps(with_c2.signals)}')
    return text if base.flagged else text.replace('"flagged": false', '"flagged": true')
