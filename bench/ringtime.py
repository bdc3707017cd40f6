#!/usr/bin/env python3
"""Ring-time benchmark: callguard's `POST /twilio/voice/inbound` against a bare signed Flask endpoint.

    .venv/bin/python bench/ringtime.py [--duration 20] [--warmup 5] [--connections 8] [--reseed]

1. Creates (once) the PostgreSQL database `callguard_bench`, migrates it with Alembic and seeds it:
   100,000 flagged numbers (customers, customer_phones, in-force register entries with markers 1-3,
   some restrictions, warnings and terminations) and 1,000,000 past calls, with set-based SQL, then
   ANALYZE. Later runs reuse the seed (`--reseed` rebuilds it) and delete the calls earlier runs added.
2. Prints `EXPLAIN (ANALYZE, BUFFERS)` of the ring statement callguard runs (storage/ring.py) for a
   flagged, a past and a new caller: index scans only, no sequential scan.
3. Starts callguard (`gunicorn wsgi:app`, PostgreSQL + real Redis, a bench TWILIO_AUTH_TOKEN) and the
   bare endpoint (`gunicorn bench.bare_app:app`) with the same gunicorn configuration, then drives
   each with signed inbound webhooks (a distinct CallSid per request; callers drawn from the flagged,
   past-call and new numbers) at N concurrent connections: a warm-up, then the measured period.
   The load generator is wrk (`apt-get install wrk`) replaying pre-signed requests from a Lua script.
4. Checks that callguard really did the work (one new calls row per request, no ring-time fallback
   in its log, one Redis PUBLISH per call) and prints requests/s, p50 and p99 of both and the ratio.

Traffic goes to 127.0.0.1 only.
"""
import argparse
import os
import random
import resource
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

SEED_VERSION = "v1"
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
RUN_TAG = uuid.uuid4().hex[:8]  # every CallSid of this run starts "CA" + RUN_TAG (its live events are counted)
ACCOUNT_SID = "AC" + "b" * 32
CALLED = "+441632960000"
FLAGGED = 100_000  # flagged numbers: +44751 0000000 .. 0099999
PAST_ONLY = 200_000  # numbers with past calls only: +44752 ...
PAST_CALLS = 1_000_000
CALLER_MIX = (("flagged", 0.4), ("past", 0.4), ("new", 0.2))
RESULT_RE = re.compile(r"^RESULT (.*)$", re.M)
HIST_RE = re.compile(r"^HIST (.*)$", re.M)

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  reqs = {}
  for line in io.lines(args[1] .. "-" .. tid .. ".txt") do
    local sig, body = line:match("^([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", args[2], {["Content-Type"] = "application/x-www-form-urlencoded",
                                                   ["X-Twilio-Signature"] = sig}, body)
  end
  n = 0
  wrapped = 0
end
function request()
  n = n + 1
  if n > #reqs then n = 1; wrapped = wrapped + 1 end
  return reqs[n]
end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
  local e = summary.errors
  local hist = {}
  for i = 1, #latency do
    local v, c = latency(i)
    hist[#hist + 1] = v .. ":" .. c
  end
  io.write("HIST " .. table.concat(hist, ",") .. "\n")
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f " ..
    "max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d wrapped=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout, w))
end
"""


# ---------------------------------------------------------------------------------------------
# Database: create, migrate, seed

def admin_conninfo(args) -> str:
    return f"host={args.pg_host} port={args.pg_port} user={args.pg_user} dbname=postgres"


def bench_conninfo(args) -> str:
    return f"host={args.pg_host} port={args.pg_port} user={args.pg_user} dbname={args.db}"


def sqlalchemy_url(args) -> str:
    return f"postgresql+psycopg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{args.db}"


def ensure_database(args) -> None:
    if args.db in ("test", "postgres", "template0", "template1"):
        sys.exit(f"refusing to use database {args.db!r}")
    with psycopg.connect(admin_conninfo(args), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.db,)).fetchone()
        if exists and args.reseed:
            conn.execute(f'DROP DATABASE "{args.db}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{args.db}"')
            print(f"created database {args.db}")


def migrate(args) -> None:
    from app.cli.db_cmd import upgrade

    upgrade(sqlalchemy_url(args))


def seed_info(conn) -> dict:
    row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                       "WHERE datname = current_database()").fetchone()
    text = (row[0] if row else None) or ""
    if not text.startswith(f"callguard-bench seed={SEED_VERSION} "):
        return {}
    return dict(item.split("=", 1) for item in text.split()[1:])


SEED_SQL = [
    "SELECT setseed(0.42)",
    "INSERT INTO teams (id, name, site) VALUES (1, 'Bench team', 'Bench')",
    "INSERT INTO users (id, username, role, team_id, active) VALUES (1, 'bench-handler', 'call_handler', 1, true)",
    # 100,000 customers, one phone each: the flagged numbers.
    f"""INSERT INTO customers (id, name, created_at)
        SELECT i, 'Bench customer ' || i, now() - interval '2 years' FROM generate_series(1, {FLAGGED}) i""",
    f"""INSERT INTO customer_phones (id, customer_id, phone)
        SELECT i, i, '+44751' || lpad((i - 1)::text, 7, '0') FROM generate_series(1, {FLAGGED}) i""",
    # One in-force register entry each (markers 1-3, expiring 1 month to 2 years from now) ...
    f"""INSERT INTO register_entries (customer_id, status, marker, source, notified, added_on, last_reviewed_on,
                                      expires_at, created_at)
        SELECT i, 'in_force', 1 + i % 3, CASE WHEN i % 7 = 0 THEN 'partner' ELSE 'own' END, true,
               now() - interval '200 days', now() - interval '30 days',
               now() + interval '30 days' + (i % 700) * interval '1 day', now() - interval '200 days'
        FROM generate_series(1, {FLAGGED}) i""",
    # ... plus history that ring time must ignore: removed entries and in-force entries already expired.
    f"""INSERT INTO register_entries (customer_id, status, marker, source, notified, added_on, expires_at, created_at)
        SELECT i, CASE WHEN i % 20 = 0 THEN 'in_force' ELSE 'removed' END, 1, 'own', true,
               now() - interval '3 years', now() - interval '1 year', now() - interval '3 years'
        FROM generate_series(1, {FLAGGED}, 10) i""",
    # 2% of flagged customers have an active contact restriction (C1), 1% an ended one.
    f"""INSERT INTO restrictions (customer_id, kind, detail, hours, status, created_at)
        SELECT i, (ARRAY['named_officer', 'written_only', 'set_hours'])[1 + (i / 50) % 3], 'bench restriction',
               CASE WHEN (i / 50) % 3 = 2 THEN '{{"days": [0, 1, 2, 3, 4], "start": "00:00", "end": "23:59"}}'::json END,
               'active', now() - interval '100 days'
        FROM generate_series(50, {FLAGGED}, 50) i""",
    f"""INSERT INTO restrictions (customer_id, kind, status, created_at)
        SELECT i, 'written_only', 'ended', now() - interval '400 days' FROM generate_series(77, {FLAGGED}, 100) i""",
    # 1,000,000 past calls over the last year: 60% from flagged numbers, 40% from 200,000 others;
    # about 1% of them today.
    f"""INSERT INTO calls (call_sid, direction, caller, caller_kind, caller_raw, called, status, started_at,
                           answered_at, ended_at, duration_s, handler_id, team_id)
        SELECT 'CA' || md5('bench-seed-' || g), 'inbound', num, 'number', num, '{CALLED}', 'completed', t,
               t + interval '20 seconds', t + d * interval '1 second', d, 1, 1
        FROM (SELECT g,
                     CASE WHEN random() < 0.6 THEN '+44751' || lpad(floor(random() * {FLAGGED})::int::text, 7, '0')
                          ELSE '+44752' || lpad(floor(random() * {PAST_ONLY})::int::text, 7, '0') END AS num,
                     CASE WHEN random() < 0.01 THEN date_trunc('day', now()) + random() * (now() - date_trunc('day', now()))
                          ELSE now() - random() * interval '365 days' END AS t,
                     30 + floor(random() * 900)::int AS d
              FROM generate_series(1, {PAST_CALLS}) g) s""",
    # Warnings on 2% of past calls, terminations on 0.5% (repeat-caller signals, R10).
    """INSERT INTO warnings (call_id, caller, reason, detail, given_by_id, created_at, platform_status)
       SELECT id, caller, 'abuse', 'bench', 1, started_at + interval '1 minute', 'played'
       FROM calls WHERE id % 50 = 0""",
    """INSERT INTO terminations (call_id, caller, reason, case_reference, terminated_by_id, created_at, platform_status)
       SELECT id, caller, 'abuse', 'BENCH-' || id, 1, started_at + interval '2 minutes', 'played'
       FROM calls WHERE id % 200 = 0""",
]


def seed(args) -> dict:
    with psycopg.connect(bench_conninfo(args), autocommit=True) as conn:
        info = seed_info(conn)
        if info:
            print(f"reusing the seeded database {args.db} (seeded {info.get('at')}; --reseed rebuilds it)")
            return info
        if conn.execute("SELECT count(*) FROM calls").fetchone()[0]:
            sys.exit(f"database {args.db} has data but no bench seed marker; run with --reseed")
        print(f"seeding {args.db}: {FLAGGED:,} flagged numbers, {PAST_CALLS:,} past calls ...", flush=True)
        started = time.perf_counter()
        with conn.transaction():
            for sql in SEED_SQL:
                conn.execute(sql)
            for table in ("customers", "customer_phones", "register_entries", "restrictions", "calls", "warnings",
                          "terminations", "teams", "users"):
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.execute("VACUUM (ANALYZE)")
        seconds = time.perf_counter() - started
        max_call_id = conn.execute("SELECT max(id) FROM calls").fetchone()[0]
        info = {"at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "max_call_id": str(max_call_id),
                "seconds": f"{seconds:.1f}"}
        comment = f"callguard-bench seed={SEED_VERSION} " + " ".join(f"{k}={v}" for k, v in info.items())
        conn.execute(f"COMMENT ON DATABASE \"{args.db}\" IS '{comment}'")
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("customer_phones", "register_entries", "restrictions", "calls", "warnings", "terminations")}
        print(f"seeded in {seconds:.1f} s (incl. VACUUM ANALYZE): "
              + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        return info


def forget_previous_runs(args, info: dict) -> None:
    """Calls added by earlier bench runs are deleted so every run starts from the same data."""
    with psycopg.connect(bench_conninfo(args), autocommit=True) as conn:
        deleted = conn.execute("DELETE FROM calls WHERE id > %s", (int(info["max_call_id"]),)).rowcount
        if deleted:
            conn.execute("VACUUM (ANALYZE) calls")
            print(f"deleted {deleted:,} calls left by earlier bench runs")


def max_call_id(args) -> int:
    with psycopg.connect(bench_conninfo(args)) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM calls").fetchone()[0]


def calls_since(args, after_id: int) -> int:
    with psycopg.connect(bench_conninfo(args)) as conn:
        return conn.execute("SELECT count(*) FROM calls WHERE id > %s", (after_id,)).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# EXPLAIN of the ring statement

def _explain_rows(conn, sql: str, params: dict, generic: bool) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of `sql` (psycopg %(name)s style) in a transaction that is rolled back.
    generic=True explains the plan a prepared statement settles on (plan_cache_mode=force_generic_plan),
    which is what ring time runs once psycopg has prepared the statement on a connection."""
    with conn.transaction(force_rollback=True):
        if not generic:
            return [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)]
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql).replace("%%", "%")
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE bench_ring AS {numbered}")
        try:
            cursor = psycopg.ClientCursor(conn)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_ring(" + ", ".join(["%s"] * len(names)) + ")",
                           [params[n] for n in names])
            return [r[0] for r in cursor]
        finally:
            conn.execute("DEALLOCATE bench_ring")


def explain_ring(args) -> bool:
    """EXPLAIN (ANALYZE, BUFFERS) of the exact statement ring time sends (storage.ring.PG_RING_DRIVER), with the
    parameters' own plan and with the generic plan of the prepared statement; rolled back afterwards."""
    from call_flows.calls import ring
    from call_flows import settings as org_settings
    from call_flows.phone import classify_caller
    from storage import ring as storage_ring

    ok = True
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the ring statement (storage/ring.py: one statement, one round trip):")
    with psycopg.connect(bench_conninfo(args)) as conn:
        for label, number in (("flagged", "+447510000050"), ("past", "+447520000123"), ("new", "+447539999999")):
            for generic in (False, True):
                caller = classify_caller(number, "GB")
                params = ring.ring_params("CA" + uuid.uuid4().hex, caller, CALLED, datetime.now(timezone.utc),
                                          org_settings.OrgSettings())
                rows = _explain_rows(conn, storage_ring.PG_RING_DRIVER, params, generic)
                seq = [r.strip() for r in rows if "Seq Scan" in r]
                scans = [re.sub(r"\s+\(.*$", "", r.strip().lstrip("-> ").strip()) for r in rows
                         if "Index" in r and "Scan" in r and "Cond" not in r]
                timing = [r.strip() for r in rows if r.startswith(("Planning Time", "Execution Time"))]
                buffers = next((r.strip() for r in rows if r.strip().startswith("Buffers:")), "Buffers: none")
                plan = "prepared/generic" if generic else "custom"
                print(f"  {label:7s} {number} {plan:16s}: {'no seq scan' if not seq else 'SEQ SCAN: ' + '; '.join(seq)}; "
                      f"{len(scans)} index scans; {'; '.join(timing)}; {buffers}")
                ok = ok and not seq
                if args.explain_full or seq:
                    print("\n".join("      " + r for r in rows))
                elif label == "flagged" and generic:
                    for scan in sorted(set(scans)):
                        print(f"      {scan}")
    return ok


# ---------------------------------------------------------------------------------------------
# Load: pre-signed requests replayed by wrk

def request_params(call_sid: str, caller: str) -> dict:
    """What Twilio posts for an inbound call (the fields that matter, and the usual extras)."""
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid, "CallStatus": "ringing",
            "Called": CALLED, "CalledCountry": "GB", "Caller": caller, "CallerCountry": "GB",
            "Direction": "inbound", "From": caller, "FromCountry": "GB", "To": CALLED, "ToCountry": "GB"}


def random_caller(rng: random.Random) -> str:
    pick = rng.random()
    if pick < CALLER_MIX[0][1]:
        return f"+44751{rng.randrange(FLAGGED):07d}"
    if pick < CALLER_MIX[0][1] + CALLER_MIX[1][1]:
        return f"+44752{rng.randrange(PAST_ONLY):07d}"
    return f"+44753{rng.randrange(10_000_000):07d}"


def write_requests(prefix: Path, url: str, threads: int, per_thread: int, rng: random.Random) -> None:
    validator = RequestValidator(AUTH_TOKEN)
    for tid in range(threads):
        with open(f"{prefix}-{tid}.txt", "w") as out:
            for _ in range(per_thread):
                params = request_params("CA" + RUN_TAG + uuid.uuid4().hex[8:], random_caller(rng))
                out.write(validator.compute_signature(url, params) + "\t" + urlencode(params) + "\n")


def run_wrk(args, script: Path, prefix: Path, port: int, seconds: float) -> dict:
    cmd = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{port}", "--", str(prefix), "/twilio/voice/inbound"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    match, hist = RESULT_RE.search(out), HIST_RE.search(out)
    if not match or not hist:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}
    result["errors"] = sum(result[k] for k in result if k.startswith("err_"))
    result["hist"] = Counter()
    for pair in filter(None, hist.group(1).split(",")):
        value, count = pair.split(":")
        result["hist"][int(value)] += int(count)
    return result


CLK_TCK = os.sysconf("SC_CLK_TCK")
CPU_PARTS = ("app", "db", "redis", "wrk")


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(ppid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


class CpuMeter:
    """CPU used per request, which the load other programs put on the machine hardly changes (unlike
    requests/s): the endpoint's gunicorn processes, the PostgreSQL backends serving the bench database,
    Redis (INFO used_cpu_*), and wrk itself."""

    def __init__(self, args, server: "Server"):
        self.args, self.server = args, server

    def snapshot(self) -> dict:
        pids = [self.server.proc.pid, *_children(self.server.proc.pid)]
        snap = {"app": sum(_proc_cpu(p) for p in pids), "db": 0.0, "redis": 0.0,
                "wrk": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
                + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime}
        if self.server.name == "callguard":
            with psycopg.connect(admin_conninfo(self.args), autocommit=True) as conn:
                backends = [r[0] for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.args.db,))]
            snap["db_pids"] = {p: _proc_cpu(p) for p in backends}
            from redis import Redis

            info = Redis.from_url(self.args.redis_url).info("cpu")
            snap["redis"] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return snap

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        used = {k: after[k] - before[k] for k in ("app", "redis", "wrk")}
        old = before.get("db_pids", {})
        used["db"] = sum(cpu - old.get(pid, 0.0) for pid, cpu in after.get("db_pids", {}).items())
        return used


class Totals:
    """One endpoint's measured rounds merged: requests, time, the latency histogram (µs), CPU used."""

    def __init__(self):
        self.requests = self.duration_us = self.errors = self.wrapped = 0
        self.hist: Counter = Counter()
        self.rounds: list[float] = []
        self.cpu = dict.fromkeys(CPU_PARTS, 0.0)

    def cpu_ms(self, part: str | None = None) -> float:
        """CPU milliseconds per request, of one part or all."""
        used = self.cpu[part] if part else sum(self.cpu.values())
        return 1000 * used / max(1, self.requests)

    def add(self, r: dict) -> None:
        for part in CPU_PARTS:
            self.cpu[part] += r["cpu"][part]
        self.requests += r["requests"]
        self.duration_us += r["duration_us"]
        self.errors += r["errors"]
        self.wrapped += r["wrapped"]
        self.hist.update(r["hist"])
        self.rounds.append(r["requests"] / (r["duration_us"] / 1e6))

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    def percentile(self, p: float) -> float:
        """Latency in ms at percentile p of all measured requests."""
        total, seen = sum(self.hist.values()), 0
        for value in sorted(self.hist):
            seen += self.hist[value]
            if seen >= total * p / 100:
                return value / 1000
        return 0.0


# ---------------------------------------------------------------------------------------------
# Freshness: from a register entry's commit to the first ring that sees it

PROBE_BASE = 9_000_000  # customer ids (and +44754 numbers) of the freshness probe, removed each run


def freshness(args, port: int, samples: int = 20) -> list[float]:
    """For `samples` new numbers: commit an in-force register entry, then ring (each ring a new
    CallSid, signed) until a ring stores the marker (calls.ring_marker). Returns the times in ms from
    the commit to the end of that ring: with the query at every ring this is one ring's latency; a
    ring-time cache must keep it under 1 s (issue 13 item 2)."""
    validator = RequestValidator(AUTH_TOKEN)
    url = f"http://127.0.0.1:{port}/twilio/voice/inbound"
    times = []
    with psycopg.connect(bench_conninfo(args), autocommit=True) as conn:
        conn.execute("DELETE FROM calls WHERE caller LIKE '+44754%'")
        conn.execute("DELETE FROM register_entries WHERE customer_id >= %s", (PROBE_BASE,))
        conn.execute("DELETE FROM customer_phones WHERE customer_id >= %s", (PROBE_BASE,))
        conn.execute("DELETE FROM customers WHERE id >= %s", (PROBE_BASE,))
        for n in range(samples):
            cid, caller = PROBE_BASE + n, f"+44754{n:07d}"
            conn.execute("INSERT INTO customers (id, name, created_at) VALUES (%s, 'probe', now())", (cid,))
            conn.execute("INSERT INTO customer_phones (id, customer_id, phone) VALUES (%s, %s, %s)", (cid, cid, caller))
            conn.execute("""INSERT INTO register_entries (customer_id, status, marker, source, notified, added_on,
                                last_reviewed_on, expires_at, created_at)
                            VALUES (%s, 'in_force', 2, 'own', true, now(), now(), now() + interval '1 year', now())""",
                         (cid,))
            committed = time.monotonic()  # autocommit: the INSERT's return is the commit
            while True:
                sid = "CA" + uuid.uuid4().hex
                params = request_params(sid, caller)
                req = urllib.request.Request(url, data=urlencode(params).encode(), headers={
                    "X-Twilio-Signature": validator.compute_signature(url, params),
                    "Content-Type": "application/x-www-form-urlencoded"})
                urllib.request.urlopen(req, timeout=10).read()
                seen = time.monotonic()
                marker = conn.execute("SELECT ring_marker FROM calls WHERE call_sid = %s", (sid,)).fetchone()
                if marker and marker[0] is not None:
                    times.append((seen - committed) * 1000)
                    break
                if seen - committed > 10:
                    times.append(float("inf"))
                    break
    return times


# ---------------------------------------------------------------------------------------------
# Servers

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_args(args) -> list[str]:
    if args.worker_class == "sync":
        return ["-k", "sync", "-w", str(args.workers)]
    return ["-k", "gthread", "-w", str(args.workers), "--threads", str(args.threads)]


class Server:
    def __init__(self, name: str, wsgi_target: str, port: int, env: dict, args, log_dir: Path):
        self.name, self.port = name, port
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "wb")
        cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), *gunicorn_args(args), "-b", f"127.0.0.1:{port}",
               "--chdir", str(ROOT), "--graceful-timeout", "5", "--no-control-socket", wsgi_target]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     start_new_session=True)

    def wait_ready(self, path: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # answering (e.g. 405 for GET on a POST route)
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class RingEvents:
    """Counts the `call_ringing` live events of this run's CallSids on Redis pub/sub (channels are
    server-wide, so other programs' events on the shared Redis must not count)."""

    def __init__(self, redis_url: str):
        from redis import Redis

        self.count = 0
        self._pubsub = Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{"callguard:events": self._on_message})
        self._thread = self._pubsub.run_in_thread(sleep_time=0.1, daemon=True)

    def _on_message(self, message) -> None:
        data = message["data"]
        if b'"call_ringing"' in data and b'"CA' + RUN_TAG.encode() in data:
            self.count += 1

    def stop(self) -> int:
        self._thread.stop()
        return self.count


def server_env(args, port: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "DATABASE_", "REDIS_", "PUBLIC_BASE", "CALLGUARD_"))}
    env.update(DATABASE_URL=sqlalchemy_url(args), REDIS_URL=args.redis_url, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
               TWILIO_ACCOUNT_SID=ACCOUNT_SID, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
               SECRET_KEY="bench-secret-key-" + "0" * 32,  # production refuses < 32 characters (config.py)
               CALLGUARD_ENV="production", PYTHONDONTWRITEBYTECODE="1")
    return env


# ---------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per endpoint (20)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the measured time is split into this many rounds, alternating the endpoints (4)")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per endpoint (5)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (8)")
    parser.add_argument("--p99-ms", type=float, default=10.0, help="callguard's p99 target in ms (issue 13: 10)")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker with gthread (2)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--max-rps", type=int, default=4000, help="sizes the pre-signed request files (4000)")
    parser.add_argument("--db", default="callguard_bench")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--reseed", action="store_true", help="drop and re-seed the bench database")
    parser.add_argument("--explain-full", action="store_true", help="print the whole EXPLAIN plans")
    parser.add_argument("--only", choices=("callguard", "bare"), help="measure one endpoint only")
    parser.add_argument("--callguard-app", default="wsgi:app",
                        help="the WSGI app gunicorn serves as callguard (wsgi:app; for profiling variants)")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("wrk is required (Debian/Ubuntu: apt-get install wrk)")

    ensure_database(args)
    migrate(args)
    info = seed(args)
    forget_previous_runs(args, info)
    explain_ok = explain_ring(args)

    names = [args.only] if args.only else ["bare", "callguard"]
    round_s = args.duration / args.rounds
    # ABBA order (bare, callguard, callguard, bare, ...) so a drift in machine load hits both alike.
    schedule = [(name, "warm", args.warmup) for name in names]
    for n in range(args.rounds):
        for name in (names if n % 2 == 0 else names[::-1]):
            schedule.append((name, f"run{n}", round_s))

    print(f"\nsigning requests for {args.warmup:g} s warm-up + {args.rounds} x {round_s:g} s per endpoint ...",
          flush=True)
    work = Path(tempfile.mkdtemp(prefix="ringtime-"))
    script = work / "replay.lua"
    script.write_text(LUA)
    rng = random.Random(2026)
    ports = {"bare": free_port(), "callguard": free_port()}
    for name, phase, seconds in schedule:
        url = f"http://127.0.0.1:{ports[name]}/twilio/voice/inbound"
        per_thread = int(seconds * args.max_rps / args.wrk_threads) + 500
        write_requests(work / f"{name}-{phase}", url, args.wrk_threads, per_thread, rng)

    config = " ".join(gunicorn_args(args))
    load = os.getloadavg()
    print(f"gunicorn {config} for both endpoints; wrk -t {args.wrk_threads} -c {args.connections}; "
          f"{os.cpu_count()} CPUs shared by wrk, gunicorn, PostgreSQL and Redis; "
          f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    totals = {name: Totals() for name in names}
    problems, servers = [], {}
    sent = 0
    try:
        for name in names:
            target = args.callguard_app if name == "callguard" else "bench.bare_app:app"
            servers[name] = Server(name, target, ports[name], server_env(args, ports[name]), args, work)
        for name in names:
            servers[name].wait_ready("/healthz" if name == "callguard" else "/twilio/voice/inbound")
        before_id = max_call_id(args)
        ring_events = RingEvents(args.redis_url)
        meters = {name: CpuMeter(args, servers[name]) for name in names}
        for name, phase, seconds in schedule:
            before = meters[name].snapshot()
            result = run_wrk(args, script, work / f"{name}-{phase}", ports[name], seconds)
            result["cpu"] = CpuMeter.delta(before, meters[name].snapshot())
            if name == "callguard":
                sent += int(result["requests"])
            if phase != "warm":
                totals[name].add(result)
            if result["errors"]:
                problems.append(f"{name} {phase}: {int(result['errors'])} wrk errors (non-2xx, timeouts, resets)")
            if result["wrapped"]:
                problems.append(f"{name} {phase}: the pre-signed requests ran out (raise --max-rps)")
        fresh = []
        if "callguard" in names:
            time.sleep(0.5)
            stored = calls_since(args, before_id)
            published = ring_events.stop()
            slack = args.connections * len(schedule)  # requests in flight when wrk stopped are not counted
            if not sent <= stored <= sent + slack:
                problems.append(f"callguard stored {stored} calls for {sent} requests")
            if not sent <= published <= sent + slack:
                problems.append(f"callguard published {published} live events for {sent} requests")
            print(f"callguard check: {sent:,} requests answered -> {stored:,} calls stored, "
                  f"{published:,} live events published (in-flight requests at each stop make up the difference)")
            fresh = freshness(args, ports["callguard"])  # after the count: its rings are not wrk's
    finally:
        for server in servers.values():
            server.stop()
    if "callguard" in servers:
        log = servers["callguard"].log_path.read_text(errors="replace")
        failures = log.count("ring-time lookup failed")
        if failures or "Traceback" in log:
            problems.append(f"callguard log shows {failures} ring-time fallbacks / tracebacks; see {work}/callguard.log")

    load = os.getloadavg()
    print(f"\nRing time at {args.connections} connections: {args.rounds} rounds x {round_s:g} s per endpoint "
          f"after {args.warmup:g} s warm-up (load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    print(f"  {'endpoint':10s} {'req/s':>8s} {'p50 ms':>8s} {'p90 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} "
          f"{'requests':>9s}  req/s per round")
    for name, t in totals.items():
        print(f"  {name:10s} {t.rps:8.0f} {t.percentile(50):8.2f} {t.percentile(90):8.2f} {t.percentile(99):8.2f} "
              f"{t.percentile(100):8.1f} {int(t.requests):9,d}  {' '.join(f'{x:.0f}' for x in t.rounds)}")
    print(f"  CPU per request (ms; {os.cpu_count()} CPUs): " + "; ".join(
        f"{name} {t.cpu_ms():.2f} = " + " + ".join(f"{part} {t.cpu_ms(part):.2f}" for part in CPU_PARTS)
        for name, t in totals.items()))
    verdict = explain_ok and not problems
    if len(totals) == 2:
        ratio = totals["callguard"].rps / totals["bare"].rps
        p99 = totals["callguard"].percentile(99)
        print(f"  ratio callguard/bare (requests/s): {ratio:.2f}  (target >= 0.60: {'met' if ratio >= 0.6 else 'NOT met'})")
        print(f"  callguard p99 {p99:.2f} ms  (target < {args.p99_ms:g} ms: {'met' if p99 < args.p99_ms else 'NOT met'})")
        print(f"  CPU per request, bare/callguard: {totals['bare'].cpu_ms() / totals['callguard'].cpu_ms():.2f} "
              "(what the requests/s ratio tends to when the CPUs are the limit)")
        verdict = verdict and ratio >= 0.6 and p99 < args.p99_ms
    if fresh:
        fresh.sort()
        p99_fresh = fresh[min(len(fresh) - 1, int(0.99 * len(fresh)))]
        print(f"  freshness (register entry committed -> seen at ring time, {len(fresh)} samples): "
              f"p50 {fresh[len(fresh) // 2]:.1f} ms, p99 {p99_fresh:.1f} ms  "
              f"(target < 1000 ms: {'met' if p99_fresh < 1000 else 'NOT met'})")
        verdict = verdict and p99_fresh < 1000
    print(f"  ring statement plan: {'index scans only' if explain_ok else 'HAS A SEQUENTIAL SCAN'}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    if not problems:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
