"""bench/ringtime.py's database: create, migrate and seed `callguard_bench` (100,000 flagged numbers,
1,000,000 past calls; reused by later runs), and EXPLAIN the ring statement."""
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

SEED_VERSION = "v1"
CALLED = "+441632960000"
FLAGGED = 100_000  # flagged numbers: +44751 0000000 .. 0099999
PAST_ONLY = 200_000  # numbers with past calls only: +44752 ...
PAST_CALLS = 1_000_000

def database_options(parser, db: str, redis_url: str | None = None) -> None:
    """The bench database's options, one spelling for every bench: --db (default `db`), --pg-host,
    --pg-port, --pg-user; for a bench that runs callguard's servers (`redis_url` its default Redis)
    also --redis-url, --ring-snapshot and --ring-journal."""
    parser.add_argument("--db", default=db)
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    if redis_url is not None:
        parser.add_argument("--redis-url", default=redis_url)
        parser.add_argument("--ring-snapshot", choices=("on", "off"), default="on",
                            help="ring time's flags from the in-process snapshot (on, as in production) or a query")
        parser.add_argument("--ring-journal", choices=("on", "off"), default="on",
                            help="ring time writes the call row behind through Redis (on, as in production: "
                                 "storage/ring_journal.py) or in its own database statement")


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
    """Calls added by earlier bench runs are deleted so every run starts from the same data, and so
    is what the ring journal (storage/ring_journal.py) keeps of them in the bench's Redis db: the
    days' call sets and the rows waiting to be written (a new process rebuilds today's sets)."""
    with psycopg.connect(bench_conninfo(args), autocommit=True) as conn:
        deleted = conn.execute("DELETE FROM calls WHERE id > %s", (int(info["max_call_id"]),)).rowcount
        if deleted:
            conn.execute("VACUUM (ANALYZE) calls")
            print(f"deleted {deleted:,} calls left by earlier bench runs")
    if getattr(args, "redis_url", None):
        from redis import Redis
        redis = Redis.from_url(args.redis_url)
        for pattern in ("callguard:c2:*", "callguard:ring:*"):
            keys = list(redis.scan_iter(pattern, count=10_000))
            for start in range(0, len(keys), 10_000):
                redis.delete(*keys[start:start + 10_000])


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
            for generic, sql in ((False, storage_ring.PG_RING_DRIVER), (True, storage_ring.PG_RING_DRIVER),
                                 (True, storage_ring.PG_RING_COUNT)):  # the query; the snapshot's insert + C2 count
                caller = classify_caller(number, "GB")
                params = ring.ring_params("CA" + uuid.uuid4().hex, caller, CALLED, datetime.now(timezone.utc),
                                          org_settings.OrgSettings())
                params.update(marker=None, restricted=False, flagged=False, threshold=5, signals="[]",
                              signals_c2='["many_calls_today"]')
                rows = _explain_rows(conn, sql, params, generic)
                seq = [r.strip() for r in rows if "Seq Scan" in r]
                scans = [re.sub(r"\s+\(.*$", "", r.strip().lstrip("-> ").strip()) for r in rows
                         if "Index" in r and "Scan" in r and "Cond" not in r]
                timing = [r.strip() for r in rows if r.startswith(("Planning Time", "Execution Time"))]
                buffers = next((r.strip() for r in rows if r.strip().startswith("Buffers:")), "Buffers: none")
                plan = ("snapshot insert+count" if sql is storage_ring.PG_RING_COUNT
                        else "prepared/generic" if generic else "custom")
                print(f"  {label:7s} {number} {plan:21s}: {'no seq scan' if not seq else 'SEQ SCAN: ' + '; '.join(seq)}; "
                      f"{len(scans)} index scans; {'; '.join(timing)}; {buffers}")
                ok = ok and not seq
                if args.explain_full or seq:
                    print("\n".join("      " + r for r in rows))
                elif label == "flagged" and generic and sql is storage_ring.PG_RING_DRIVER:
                    for scan in sorted(set(scans)):
                        print(f"      {scan}")
    return ok

