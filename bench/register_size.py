#!/usr/bin/env python3
"""Ring-time lookup against the caution register's size (issue 5, R1): 1k, 100k and 1M entries.

    PYTHONPATH=. .venv/bin/python bench/register_size.py   # PostgreSQL database register_bench (dropped!)

Seeds N customers, one number each and one entry each (3 in 4 in force, 1 in 4 expired), runs
ring.record_ring (the same statement as POST /twilio/voice/inbound) 2,000 times for callers spread
over the register, and prints p50/p99 and how many were flagged, plus the EXPLAIN of the lookup:
the register part is two index probes (customer_phones.phone unique, register_entries.customer_id)
whatever N is. The end-to-end HTTP benchmark is bench/ringtime.py.
"""
import os
import statistics
import time

from datetime import datetime, timezone
from sqlalchemy import create_engine, text
from app.cli.db_cmd import upgrade
from call_flows.calls import ring
from storage import ring as storage_ring
from call_flows import settings as org_settings
from call_flows.phone import classify_caller

URL = os.environ.get("REGISTER_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/register_bench")
engine = create_engine(URL)
with engine.begin() as c:
    c.execute(text("DROP SCHEMA public CASCADE"))
    c.execute(text("CREATE SCHEMA public"))
upgrade(URL)
now = datetime.now(timezone.utc)
for n in (1_000, 100_000, 1_000_000):
    with engine.begin() as c:
        c.execute(text("TRUNCATE customers, customer_phones, register_entries, calls RESTART IDENTITY CASCADE"))
        c.execute(text(f"INSERT INTO customers (id, name, created_at) SELECT i, 'C' || i, now() FROM generate_series(1, {n}) i"))
        c.execute(text(f"INSERT INTO customer_phones (customer_id, phone) SELECT i, '+447' || lpad(i::text, 9, '0') FROM generate_series(1, {n}) i"))
        c.execute(text(f"""INSERT INTO register_entries (customer_id, status, marker, source, notified, added_on, expires_at, created_at)
            SELECT i, CASE WHEN i % 4 = 0 THEN 'expired' ELSE 'in_force' END, 1 + i % 3, 'own', true, now(),
                   now() + interval '1 year' * (CASE WHEN i % 4 = 0 THEN -1 ELSE 1 END), now() FROM generate_series(1, {n}) i"""))
        c.execute(text("ANALYZE"))
    with engine.connect() as c:
        settings = org_settings.load(c, fresh=True)
        probe = "+447" + str(n // 2 + 1).zfill(9)
        params = {"caller": probe, "now": now, "since": now, "day_start": now}
        plan = [r[0] for r in c.execute(text("EXPLAIN " + ring.FLAGS_SELECT), params)]
        seq = [line for line in plan if "Seq Scan" in line]
    times, flagged = [], 0
    for i in range(2000):
        who = classify_caller("+447" + str(1 + (i * 7919) % n).zfill(9))
        assert who.is_number, who
        t = time.perf_counter()
        with engine.begin() as c:
            flags = ring.record_ring(c, f"CAbench{n}x{i}", who, "+441632960000", now, settings,
                                        storage_ring.ring_statement(c))
        times.append((time.perf_counter() - t) * 1000)
        flagged += bool(flags.marker)
    times.sort()
    print(f"register={n:>9,} entries: record_ring p50={statistics.median(times):.2f} ms p99={times[int(len(times)*.99)]:.2f} ms; flagged {flagged}/2000 (3 in 4 entries in force); seq scans in plan: {len(seq)}")
    if n == 1_000_000:
        print("\n".join(plan[:12]))
