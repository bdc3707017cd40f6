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
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from call_flows import logs
from call_flows.calls.ring import RingFlags, repeat_signals
from call_flows.clock import day_start, local_date
from call_flows.phone import Caller
from call_flows.settings import OrgSettings
from storage.ring_journal_wire import (DAY_CALLS, DAY_TTL_S, FLUSH_LOCK, FLUSH_SQL, NOT_READY, PENDING, READY_LUA,
                                       REFUSED, RELEASE_LUA, REPEATED, RING_LUA, SEEN, c2_version, day_key, row_json, set_key)

log = logs.get_logger(__name__)
FLUSH_S = 1.0  # a flusher looks at least this often (rows of a process that died, a new day)
BATCH_S = 0.05  # after a ring wakes it, a flusher waits this long so one statement carries many rows
CHUNK = 1000  # rows per INSERT
RETRY_S = 1.0  # after Redis failed, ring time goes straight to the database this long (no wait per ring)


class JournalUnavailable(Exception):
    """Redis failed: the database must record the ring (and nothing should wait on Redis again)."""


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
        RingFlags (`new_call` False for a repeated CallSid), or None when the database statement must
        record it (the day is not ready, or the CallSid was counted and its row is not waiting). Raises JournalUnavailable when Redis failed (remembered: the day's
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
        if answer in (NOT_READY, SEEN):
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

    def store(self, session: Session, call_sid: str) -> None:
        """Insert `call_sid`'s waiting row, if there is one, in `session`'s transaction
        (call_flows.calls.pending). Nothing when Redis cannot be asked or the database refuses the row."""
        try:
            row = self.redis.hget(PENDING, call_sid)
        except Exception:
            log.warning("ring_journal_unreadable", call_sid=call_sid, exc_info=True)
            return
        if row is None:
            return
        try:
            with session.begin_nested():  # a row the database refuses must not break the reader's transaction
                session.execute(FLUSH_SQL, {"rows": "[" + row.decode() + "]"})
        except DataError:
            log.warning("ring_journal_row_refused", call_sid=call_sid, exc_info=True)

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
                try:
                    with self.engine.begin() as conn:
                        conn.execute(FLUSH_SQL, {"rows": "[" + ",".join(v.decode() for _, v in chunk) + "]"})
                except DataError:  # a row the database refuses: the others one by one, that one set aside
                    self._one_by_one(chunk)
                    continue
                self.redis.hdel(PENDING, *[k for k, _ in chunk])
            return len(items)
        finally:
            self._release(keys=[FLUSH_LOCK], args=[token])

    def _one_by_one(self, chunk: list[tuple[bytes, bytes]]) -> None:
        """Write each row of a refused batch alone; a row refused alone is moved to REFUSED (kept for
        an operator, logged) so that it never blocks later rows (its call is recorded again by its
        status callback). A connection failure is raised: the batch waits for the next pass."""
        for sid, row in chunk:
            try:
                with self.engine.begin() as conn:
                    conn.execute(FLUSH_SQL, {"rows": "[" + row.decode() + "]"})
            except DataError:
                log.error("ring_journal_row_refused; set aside", call_sid=sid.decode(errors="replace"), exc_info=True)
                self.redis.hset(REFUSED, sid, row)
            self.redis.hdel(PENDING, sid)

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
                    DAY_CALLS, {"start": day_start(day), "end": day_start(day + timedelta(days=1))})
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
