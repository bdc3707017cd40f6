"""Keeps a process's RingSnapshot (call_flows/calls/ring_snapshot.py) fresh from PostgreSQL (issue 13).

Migration 0021 puts triggers on every table the ring statement reads flags from (customer_phones,
register_entries, restrictions, warnings, terminations): each committed change sends a NOTIFY on
`ring_flags` naming the customer (`c:<id>`) or the number (`p:<e164>`), a TRUNCATE sends `*`. No
service code has to remember to notify. One daemon thread per process:

1. connects (autocommit, application_name `callguard-ring-listener`), LISTENs, then loads every
   flagged number (LISTEN first: a change committed during the load is replayed after it);
2. applies each notification by recomputing the numbers it names (a burst of BURST names or more,
   or `*`, reloads everything);
3. every CONFIRM_S sends a round trip and, once the notifications that arrive ahead of its answer are
   applied, moves the snapshot's `confirmed_at` on: the snapshot answers only while that is recent
   (ring_snapshot.STALE_S), so a lost or stuck listener sends ring time to the query within 0.9 s;
   on any error it stops answering at once, until a reconnect has reloaded it.
"""
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import psycopg

from call_flows import logs
from call_flows.calls.ring_snapshot import NumberFlags, RingSnapshot

log = logs.get_logger(__name__)
CHANNEL = "ring_flags"
APPLICATION_NAME = "callguard-ring-listener"
BURST = 2000
CONFIRM_S = 0.25
HORIZON_DAYS = 400  # R10 history held: longer than any repeat window the settings allow

_PHONES_OF = "SELECT phone FROM customer_phones WHERE customer_id = ANY(%s)"
_ENTRIES = """SELECT cp.phone, re.marker, re.expires_at FROM customer_phones cp
              JOIN register_entries re ON re.customer_id = cp.customer_id
              WHERE re.status = 'in_force' AND re.marker IS NOT NULL AND re.expires_at > %s {only}"""
_RESTRICTIONS = """SELECT cp.phone, max(r.id) FROM customer_phones cp JOIN restrictions r ON r.customer_id = cp.customer_id
                   WHERE r.status = 'active' {only} GROUP BY cp.phone"""
_HISTORY = "SELECT caller, created_at FROM {table} WHERE created_at > %s AND caller IS NOT NULL {only}"


def load(conn: psycopg.Connection, horizon: datetime, phones: list[str] | None = None) -> dict[str, NumberFlags]:
    """Flags of `phones` (all flagged numbers when None) as NumberFlags by number; four indexed queries."""
    only = "" if phones is None else "AND {col} = ANY(%s)"
    extra = () if phones is None else (phones,)
    entries: dict[str, list] = {}
    restriction: dict[str, int] = {}
    history: dict[str, dict[str, list]] = {"warnings": {}, "terminations": {}}
    now = datetime.now(timezone.utc)
    for phone, marker, expires in conn.execute(_ENTRIES.format(only=only.format(col="cp.phone")), (now, *extra)):
        entries.setdefault(phone, []).append((marker, expires))
    for phone, rid in conn.execute(_RESTRICTIONS.format(only=only.format(col="cp.phone")), extra):
        restriction[phone] = rid
    for table, held in history.items():
        for caller, at in conn.execute(_HISTORY.format(table=table, only=only.format(col="caller")), (horizon, *extra)):
            held.setdefault(caller, []).append(at)
    numbers = set(entries) | set(restriction) | set(history["warnings"]) | set(history["terminations"])
    return {n: NumberFlags(tuple(entries.get(n, ())), restriction.get(n), tuple(history["warnings"].get(n, ())),
                           tuple(history["terminations"].get(n, ()))) for n in numbers}


def _one(conn: psycopg.Connection, sql: str) -> object:
    row = conn.execute(sql).fetchone()
    return row[0] if row else None


class RingListener(threading.Thread):
    """The listener thread of one process; `start_and_wait` returns once the snapshot is live (or
    after `timeout`, with ring time on the query path until it is)."""

    def __init__(self, conninfo: str, snapshot: RingSnapshot, retry_s: float = 1.0):
        super().__init__(name="ring-listener", daemon=True)
        self.conninfo, self.snapshot, self.retry_s = conninfo, snapshot, retry_s
        self._loaded = threading.Event()
        self._stopping = threading.Event()
        self._backend = 0  # pg_backend_pid() of the connection that LISTENs

    def start_and_wait(self, timeout: float = 60.0) -> bool:
        self.start()
        return self._loaded.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, application_name=APPLICATION_NAME,
                                     connect_timeout=5, keepalives=1, keepalives_idle=5, keepalives_interval=1,
                                     keepalives_count=3) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._backend = conn.info.backend_pid
                    self._reload(conn)
                    self._confirm(conn)  # the load took a while: confirm afresh, so it answers at once
                    self._loaded.set()
                    log.info("ring_snapshot_live", numbers=len(self.snapshot))
                    self._listen(conn)
            except Exception as exc:
                log.warning("ring_listener_down; ring time queries the database until it is back", error=repr(exc))
            finally:
                self.snapshot.down()  # never stale-forever: the query answers until reloaded
            self._stopping.wait(self.retry_s)

    def _listen(self, conn: psycopg.Connection) -> None:
        """Apply notifications as they come; every CONFIRM_S a round trip proves the connection alive
        and flushes what was committed before it, which then moves `confirmed_at` on."""
        while not self._stopping.is_set():
            self._drain(conn, CONFIRM_S)
            self._confirm(conn)

    def _confirm(self, conn: psycopg.Connection) -> None:
        """Every change committed before now is applied once this returns: notifications committed
        before the round trip arrive ahead of its answer. The same backend must answer (behind a
        transaction-mode pooler LISTEN would be lost): a changed pid is an error."""
        checked = time.monotonic()
        if _one(conn, "SELECT pg_backend_pid()") != self._backend:
            raise RuntimeError("the listening backend changed (a transaction-mode pooler?)")
        self._drain(conn, 0)
        self.snapshot.confirmed_at = checked

    def _drain(self, conn: psycopg.Connection, wait: float) -> None:
        names = {n.payload for n in conn.notifies(timeout=max(wait, 0.001), stop_after=1)}
        if names:  # take the rest of a burst without waiting
            names |= {n.payload for n in conn.notifies(timeout=0.001, stop_after=BURST)}
            self._apply(conn, names)

    def _reload(self, conn: psycopg.Connection) -> None:
        horizon = datetime.now(timezone.utc) - timedelta(days=HORIZON_DAYS)
        self.snapshot.replace(load(conn, horizon), horizon)

    def _apply(self, conn: psycopg.Connection, names: Iterable[str]) -> None:
        names = set(names)
        if "*" in names or len(names) >= BURST:
            self._reload(conn)
            return
        phones = {n[2:] for n in names if n.startswith("p:")}
        customers = [int(n[2:]) for n in names if n.startswith("c:")]
        if customers:
            phones |= {row[0] for row in conn.execute(_PHONES_OF, (customers,))}
        if not phones:
            return
        assert self.snapshot.horizon is not None
        fresh = load(conn, self.snapshot.horizon, sorted(phones))
        for phone in phones:
            self.snapshot.put(phone, fresh.get(phone, NumberFlags()))
