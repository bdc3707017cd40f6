"""Ring time without a PostgreSQL round trip (issue 13 item 1): the call row written behind, C2 in Redis.

A ring whose flags are known without writing (the snapshot, storage/ring_listener.py; or a read of the
flags when the snapshot cannot answer) is recorded by one Lua script, atomically, in one round trip:

- its CallSid joins the caller's set for the organisation's day (`callguard:c2:<date>:<e164>`; other
  callers one set per day, `callguard:c2:<date>:-`, for the duplicate check only). The set's size is
  C2's calls today, exact across processes; a CallSid already in it is a repeated webhook (not new);
- its row waits in the hash `callguard:ring:pending` (CallSid -> the row as JSON) until a flusher
  inserts it into `calls` (batched; any process's flusher; `INSERT ... ON CONFLICT DO NOTHING`);
- its live event (`call_ringing`, with its card) is published.
Both the row and the event come in two versions, without and with C2's `many_calls_today`: the script
picks one by the count, so nothing is built after the round trip.

The sets are complete only for a day marked ready (`callguard:c2:<date>:ready`). A rebuild (under a
Redis lock, in a flusher) adds every call of that day in the database to the sets and then marks it;
a set is a union, so the rebuild and rings arriving meanwhile can interleave in any order. Until
then, and whenever Redis fails, a ring takes the database path (storage.ring: insert + count in one
statement); the script has added its CallSid to the set first, so no ring is missed.
A process that wrote rings to the database because Redis failed forgets the day's ready mark once
Redis answers again (its rings are in the database only), so the next rebuild counts them.

A row waiting in the hash is found by `store(session, call_sid)` (call_flows.calls.pending: an accept, a
warning or a status callback for a call that rang a moment ago). If Redis loses the hash (a restart
without persistence) a status callback recreates the call (call_flows.calls.status).
"""
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from redis.exceptions import NoScriptError
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from call_flows import logs
from call_flows.calls.ring import RingFlags, repeat_signals
from call_flows.clock import day_start, local_date
from call_flows.phone import Caller
from call_flows.settings import OrgSettings

log = logs.get_logger(__name__)
PENDING = "callguard:ring:pending"
FLUSH_LOCK = "callguard:ring:flush-lock"
DAY_TTL_S = 2 * 24 * 3600  # a day's sets outlive the day (a call that rang at 23:59 is still counted then)
FLUSH_S = 1.0  # a flusher looks at least this often (rows of a process that died, a new day)
BATCH_S = 0.05  # after a ring wakes it, a flusher waits this long so one statement carries many rows
CHUNK = 1000  # rows per INSERT
RETRY_S = 1.0  # after Redis failed, ring time goes straight to the database this long (no wait per ring)

NOT_READY, REPEATED = -1, -2


class JournalUnavailable(Exception):
    """Redis failed: the database must record the ring (and nothing should wait on Redis again)."""

# KEYS: the day's ready mark, the caller's set for the day, the pending rows.
# ARGV: CallSid, C2 threshold, row, row with C2, event, event with C2, channel, TTL,
#       '1' to forget the ready mark first, '1' to count (a number).
# Answers NOT_READY (the caller takes the database path), REPEATED, or the calls today before this one.
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
if added == 0 then return -2 end
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

_DAY_CALLS = text("SELECT caller, call_sid FROM calls WHERE caller IS NOT NULL "
                  "AND started_at >= :start AND started_at < :end")


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
        "called": (called or "")[:64], "started_at": now.isoformat(), "ring_marker": flags.marker,
        "ring_signals": flags.signals if kept else None,
        "ring_restricted": bool(flags.restriction_id) if kept else None})


def c2_version(text: str, base: RingFlags, with_c2: RingFlags) -> str:
    """`text`, the JSON of a live event built from `base`, as built from `with_c2` (C2 added): only the
    signals lists and the card's `flagged` differ, so the second version is two replacements instead of
    a second card and dump (JSON escapes the quotes inside values: only real keys match)."""
    text = text.replace(f'"signals": {json.dumps(base.signals)}', f'"signals": {json.dumps(with_c2.signals)}')
    return text if base.flagged else text.replace('"flagged": false', '"flagged": true')


class RingJournal:
    """One per web process (app/twilio_hooks/lean.start_snapshot). `ring` is ring time's write;
    `store` finds a waiting row for a reader; a daemon thread flushes and rebuilds."""

    def __init__(self, redis: Any, engine: Engine, channel: str, command: Callable[..., Any]):
        """`redis`: a redis-py client (the flusher's); `command(*args)`: sends one command on the
        process's kept per-thread connection (live_events.RedisBroadcaster.command), ring time's."""
        self.redis, self.engine, self.channel, self.command = redis, engine, channel, command
        self._sha = redis.script_load(RING_LUA)
        self._release = redis.register_script(RELEASE_LUA)
        self._mark_ready = redis.register_script(READY_LUA)
        self._forget: set[date] = set()  # days this process wrote rings for while Redis failed
        self._down_until = 0.0  # time.monotonic() before which Redis is not asked at ring time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ring time ------------------------------------------------------------------------------------

    def ring(self, call_sid: str, caller: Caller, called: str | None, now: datetime, settings: OrgSettings,
             known: dict[str, Any], live_for: Callable[[RingFlags], dict[str, Any]]) -> RingFlags | None:
        """Record a ring whose flags are `known` (the FLAGS_SELECT columns but calls_today). Returns its
        RingFlags (`new_call` False for a repeated CallSid), or None when the database path must record
        it (the day is not ready). Raises JournalUnavailable when Redis failed (remembered: the day's
        counts are rebuilt once it answers). `live_for(flags)`: the live event's payload."""
        day = local_date(now)
        if time.monotonic() < self._down_until:
            self._forget.add(day)
            raise JournalUnavailable("Redis failed less than RETRY_S ago")
        if caller.is_number:
            signals = repeat_signals(known["warnings"], known["terminations"], -1, settings)
            base = RingFlags(known["marker"], known["restriction_id"], known["warnings"], known["terminations"],
                             signals=signals)
            with_c2 = RingFlags(known["marker"], known["restriction_id"], known["warnings"], known["terminations"],
                                signals=[*signals, "many_calls_today"])  # C2, last as in repeat_signals
        else:
            base = with_c2 = RingFlags()
        event = json.dumps(live_for(base), default=str)
        try:
            answer = self._run(day, caller, settings, call_sid, (
                row_json(call_sid, caller, called, now, base, False),
                row_json(call_sid, caller, called, now, with_c2, True),
                event, c2_version(event, base, with_c2) if caller.is_number else event))
        except Exception as exc:
            self._failed(day)
            raise JournalUnavailable(str(exc)) from exc
        if answer == NOT_READY:
            self._wake.set()  # the flusher rebuilds the day
            return None
        self._wake.set()
        if answer == REPEATED:
            return replace(base, new_call=False)
        flags = with_c2 if caller.is_number and answer + 1 > settings.calls_per_day_threshold else base
        return replace(flags, calls_today=answer)

    def _run(self, day: date, caller: Caller, settings: OrgSettings, call_sid: str,
             versions: tuple[str, str, str, str]) -> int:
        forget = day in self._forget
        args = (day_key(day, "ready"), set_key(day, caller), PENDING, call_sid, settings.calls_per_day_threshold,
                *versions, self.channel, DAY_TTL_S, "1" if forget else "0", "1" if caller.is_number else "0")
        try:
            answer = self.command("EVALSHA", self._sha, 3, *args)
        except NoScriptError:  # a Redis restarted (or flushed its scripts): load it again, once
            self._sha = self.redis.script_load(RING_LUA)
            answer = self.command("EVALSHA", self._sha, 3, *args)
        if forget:
            self._forget.discard(day)
        return int(answer)

    def _failed(self, day: date) -> None:
        log.warning("ring_journal_unavailable; the database records rings", retry_s=RETRY_S, exc_info=True)
        self._forget.add(day)
        self._down_until = time.monotonic() + RETRY_S

    # readers --------------------------------------------------------------------------------------

    def store(self, session: Session, call_sid: str) -> bool:
        """Insert `call_sid`'s waiting row in `session`'s transaction (call_flows.calls.pending).
        True when there was one; False when not, or when Redis cannot be asked."""
        try:
            row = self.redis.hget(PENDING, call_sid)
        except Exception:
            log.warning("ring_journal_unreadable", call_sid=call_sid, exc_info=True)
            return False
        if row is None:
            return False
        session.execute(FLUSH_SQL, {"rows": "[" + row.decode() + "]"})
        return True

    # the flusher ----------------------------------------------------------------------------------

    def flush(self) -> int:
        """Insert every waiting row (one flusher at a time, across processes); returns how many."""
        token = uuid.uuid4().hex
        if not self.redis.set(FLUSH_LOCK, token, nx=True, px=5_000):  # a killed holder delays others 5 s at most
            return 0
        try:
            pending = self.redis.hgetall(PENDING)
            items = list(pending.items())
            for start in range(0, len(items), CHUNK):
                chunk = items[start:start + CHUNK]
                with self.engine.begin() as conn:
                    conn.execute(FLUSH_SQL, {"rows": "[" + ",".join(v.decode() for _, v in chunk) + "]"})
                self.redis.hdel(PENDING, *[k for k, _ in chunk])
            return len(items)
        finally:
            self._release(keys=[FLUSH_LOCK], args=[token])

    def ready(self, day: date) -> bool:
        return bool(self.redis.exists(day_key(day, "ready")))

    def rebuild(self, day: date) -> bool:
        """Add every call of `day` in the database to its sets, then mark the day ready (one process at
        a time). Rows still waiting are in the sets already. Returns whether it ran."""
        lock, token = day_key(day, "rebuild"), uuid.uuid4().hex
        if not self.redis.set(lock, token, nx=True, px=60_000):
            return False
        try:
            generation = (self.redis.get(day_key(day, "ready:gen")) or b"0").decode()
            callers: set[str] = set()
            with self.engine.connect() as conn:
                result = conn.execution_options(yield_per=5000).execute(
                    _DAY_CALLS, {"start": day_start(day), "end": day_start(day + timedelta(days=1))})
                for part in result.partitions():
                    with self.redis.pipeline(transaction=False) as pipe:
                        for caller, call_sid in part:
                            pipe.sadd(day_key(day, caller), call_sid)
                            callers.add(caller)
                        pipe.execute()
            with self.redis.pipeline(transaction=False) as pipe:
                for caller in callers:
                    pipe.expire(day_key(day, caller), DAY_TTL_S)
                pipe.execute()
            if not self._mark_ready(keys=[day_key(day, "ready")], args=[generation, DAY_TTL_S]):
                return False  # forgotten meanwhile: the next pass rebuilds again
            log.info("ring_journal_day_ready", day=day.isoformat(), callers=len(callers))
            return True
        finally:
            self._release(keys=[lock], args=[token])

    def work_once(self, now: datetime) -> None:
        """One pass of the flusher: forget what must be forgotten, flush, make today ready."""
        for day in list(self._forget):  # Redis answers again: this process's database-only rings count
            with self.redis.pipeline() as pipe:
                gen = day_key(day, "ready:gen")
                pipe.delete(day_key(day, "ready")).incr(gen).expire(gen, DAY_TTL_S).execute()
            self._forget.discard(day)
        self.flush()
        today = local_date(now)
        if not self.ready(today):
            self.rebuild(today)

    def start(self, clock: Callable[[], datetime], every_s: float = FLUSH_S, batch_s: float = BATCH_S) -> None:
        """The flusher thread (daemon): a pass `batch_s` after a ring wakes it, and every `every_s`
        (tests hold rows back with long ones: CALLGUARD_RING_JOURNAL_EVERY_S / _BATCH_S)."""
        def loop() -> None:
            while not self._stopping.is_set():
                if self._wake.wait(every_s):
                    self._wake.clear()
                    self._stopping.wait(batch_s)
                if self._stopping.is_set():
                    return
                try:
                    self.work_once(clock())
                except Exception:
                    log.warning("ring_journal_flush_failed; retried", exc_info=True)
                    self._stopping.wait(every_s)
        self._thread = threading.Thread(target=loop, name="callguard-ring-journal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
