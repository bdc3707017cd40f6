#!/usr/bin/env python3
"""Issue 13 items 4-6 as the data grows: the board snapshot, the minute tick and the trends on the
seeded PostgreSQL database of bench/ringtime.py (100,000 flagged numbers with register entries in
force, 1,000,000 past calls, 20,000 warnings, 5,000 terminations), in its own database.

    .venv/bin/python bench/data_growth.py [--db callguard_scale] [--live 500] [--rounds 20]

Adds per run: `--live` connected calls over 10 teams (60% from flagged numbers, a warning on every
tenth) and 50 ringing calls; 1% of the in-force entries due for their R6 review
(`--due-every`); 1,000 callback tasks overdue (T5), 300 of them with a retry due (M1). Prints the median,
p95 and worst of `--rounds` runs (after one more, the process's first, printed and not counted; the
heap frozen after set-up as wsgi.py freezes it, app/heap.py), this process's CPU time (median),
the queries each took and the load average, and exits 1 when a target is missed: board snapshot
(what GET /board/state builds) p95 < 100 ms and a number of queries that does not grow with the calls shown; each tick of the backlog and the steady tick's p95 (expire_due +
deadlines.check + remind_panel) < 1 s with its memory peak independent of the register; trends
(12 and 52 weeks) p95 < 500 ms. Loopback PostgreSQL only."""
import argparse
import os
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, event, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import ringtime_db as ringtime  # noqa: E402  (the shared seed)
from call_flows.calls import board  # noqa: E402
from call_flows.register import reviews as register_reviews  # noqa: E402
from call_flows.incidents import deadlines, trends  # noqa: E402
from call_flows import settings as org_settings  # noqa: E402
from call_flows.clock import utcnow  # noqa: E402
from call_flows.models import User  # noqa: E402
from app.api.shapes import board_json  # noqa: E402
from app.heap import freeze_start_up  # noqa: E402

TARGETS = {"board": 0.100, "tick": 1.0, "trends": 0.500}


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def prepare(args, info: dict) -> None:
    """This run's live calls, supervisors and due reviews; what earlier runs added is removed first."""
    with psycopg.connect(ringtime.bench_conninfo(args), autocommit=True) as conn:
        conn.execute("DELETE FROM warnings WHERE detail = 'bench-live'")
    ringtime.forget_previous_runs(args, info)
    with psycopg.connect(ringtime.bench_conninfo(args), autocommit=True) as conn:
        conn.execute("DELETE FROM register_reminders; DELETE FROM audit_log; DELETE FROM email_deliveries; "
                     "DELETE FROM outbox_jobs WHERE key LIKE 'register-%'")
        conn.execute("""INSERT INTO teams (id, name, site) SELECT i, 'Team ' || i, 'Site ' || (i % 3)
                        FROM generate_series(2, 11) i ON CONFLICT DO NOTHING""")
        conn.execute("""INSERT INTO users (id, username, role, team_id, active) VALUES
                        (2, 'bench-supervisor', 'supervisor', NULL, true) ON CONFLICT DO NOTHING""")
        conn.execute("""INSERT INTO users (id, username, role, team_id, active)
                        SELECT 100 + i, 'bench-handler-' || i, 'call_handler', 2 + i %% 10, true
                        FROM generate_series(1, %s) i ON CONFLICT DO NOTHING""", (args.live,))
        conn.execute("""INSERT INTO calls (call_sid, direction, caller, caller_kind, caller_raw, called, status,
                                           started_at, answered_at, handler_id, team_id)
                        SELECT 'CAlive' || i, 'inbound', num, 'number', num, %s, 'in-progress',
                               now() - interval '5 minutes', now() - interval '4 minutes', 100 + i, 2 + i %% 10
                        FROM (SELECT i, CASE WHEN i %% 5 < 3 THEN '+44751' || lpad((i * 37)::text, 7, '0')
                                             ELSE '+44753' || lpad(i::text, 7, '0') END AS num
                              FROM generate_series(1, %s) i) s""", (ringtime.CALLED, args.live))
        conn.execute("""INSERT INTO calls (call_sid, direction, caller, caller_kind, caller_raw, called, status,
                                           started_at)
                        SELECT 'CAring' || i, 'inbound', '+44751' || lpad((i * 91)::text, 7, '0'), 'number',
                               'x', %s, 'ringing', now() - interval '20 seconds' FROM generate_series(1, 50) i""",
                     (ringtime.CALLED,))
        conn.execute("""INSERT INTO warnings (call_id, caller, reason, detail, given_by_id, created_at, platform_status)
                        SELECT id, caller, 'abuse', 'bench-live', handler_id, now() - interval '1 minute', 'played'
                        FROM calls WHERE call_sid LIKE 'CAlive%' AND id % 10 = 0""")
        # T5/M1 after downtime: 1,000 callbacks overdue (each team's supervisor told), 300 retries due
        conn.execute("DELETE FROM callback_tasks WHERE case_reference LIKE 'BENCH-%'")
        conn.execute("""INSERT INTO users (id, username, role, team_id, active)
                        SELECT 20 + i, 'bench-team-supervisor-' || i, 'supervisor', 2 + i, true
                        FROM generate_series(0, 9) i ON CONFLICT DO NOTHING""")
        conn.execute("""INSERT INTO callback_tasks (case_reference, team_id, manager_id, status, need_arose_at,
                                                    due_at, attempts, retry_at)
                        SELECT 'BENCH-' || i, 2 + i % 10, 101 + i % 50, 'open', now() - interval '3 days',
                               now() - interval '1 hour' - i * interval '1 second', 1,
                               CASE WHEN i % 10 < 3 THEN now() - interval '5 minutes' END
                        FROM generate_series(1, 1000) i""")
        conn.execute("""UPDATE register_entries SET last_reviewed_on = CASE WHEN id %% %s = 0
                        THEN now() - interval '7 months' ELSE now() - interval '30 days' END
                        WHERE status = 'in_force'""", (args.due_every,))
        conn.execute("VACUUM (ANALYZE)")


class Queries:
    def __init__(self, engine):
        self.n = 0
        event.listen(engine, "before_cursor_execute", self.count)

    def count(self, *_):
        self.n += 1


def timed(engine, counter, rounds: int, fn) -> tuple[list[float], int, int, list[float]]:
    """Seconds of each round (own session, rolled back) and this process's CPU seconds in it (Python
    and the driver, not PostgreSQL's: steadier than wall time on a shared machine), then the queries
    and peak Python memory of one more round under tracemalloc (which slows Python several times, so
    it is not timed). The first round (the process's first: statements compiled, caches filled) is
    printed on its own and not counted; a web process serves it once."""
    seconds, cpu = [], []
    for n in range(rounds + 1):
        with Session(engine) as session:
            started, cpu_started = time.perf_counter(), time.process_time()
            fn(session)
            if n == 0:
                print(f"  (first round {(time.perf_counter() - started) * 1000:.1f} ms, not counted)", flush=True)
            else:
                seconds.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
            session.rollback()
    with Session(engine) as session:
        counter.n = 0
        tracemalloc.start()
        fn(session)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        session.rollback()
    return seconds, counter.n, peak, cpu


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def report(name: str, seconds: list[float], queries: int, peak: int, cpu: list[float] | None, target: float,
           each: bool = False) -> bool:
    """One line per part; the target holds for the p95 of the rounds, or for `each` of them."""
    ok = (max(seconds) if each else p95(seconds)) < target
    cpu_ms = f"  cpu median {statistics.median(cpu) * 1000:6.1f} ms" if cpu else ""
    print(f"{name:<28} median {statistics.median(seconds) * 1000:7.1f} ms  p95 {p95(seconds) * 1000:7.1f} ms  "
          f"worst {max(seconds) * 1000:7.1f} ms{cpu_ms}  queries {queries:4d}  peak {peak / 1e6:6.1f} MB  "
          f"target {'each' if each else 'p95'} < {target * 1000:.0f} ms  {'ok' if ok else 'MISSED'}  ({load()})", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ringtime.database_options(parser, "callguard_scale")
    parser.add_argument("--live", type=int, default=500, help="connected calls on the board (500)")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds of each part, after one not counted")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--due-every", type=int, default=100,
                        help="every n-th in-force entry is due for review at the first tick (100: 1%%)")
    parser.add_argument("--parts", default="board,tick,trends", help="comma-separated: board, tick, trends")
    args = parser.parse_args()
    args.parts = set(args.parts.split(","))
    ringtime.ensure_database(args)
    ringtime.migrate(args)
    info = ringtime.seed(args)
    prepare(args, info)
    engine = create_engine(ringtime.sqlalchemy_url(args))
    counter = Queries(engine)
    now = utcnow()
    with Session(engine) as session:
        settings = org_settings.load(session)
        supervisor = session.get(User, 2)
        lead = session.scalar(select(User).where(User.username == "bench-handler-1"))
        session.expunge_all()
    # as wsgi.py after create_app(): the start-up heap frozen, so a full collection does not walk the
    # bench's imports and seed helpers (~150,000 objects, ~90 ms a time) where a web process walks none
    freeze_start_up()
    ok = True

    def snap(session, team_id=None):  # what GET /board/state does before jsonify: the snapshot and its JSON
        shown = board_json(board.snapshot(session, session.merge(supervisor), now, settings, team_id))
        assert len(shown["calls"]) + len(shown["ringing"]) >= (args.live // 10 if team_id else args.live)

    for label, fn in ((f"board snapshot, {args.live} calls", snap),
                      ("board snapshot, 1 team", lambda s: snap(s, lead.team_id))) if "board" in args.parts else ():
        ok &= report(label, *timed(engine, counter, args.rounds, fn), TARGETS["board"])

    def tick(session, at) -> dict:
        expired = register_reviews.expire_due(session, at)
        checked = deadlines.check(session, at, settings)
        made = register_reviews.remind_panel(session, at, settings)
        return {"reminders": len(made), "overdue": len(checked["overdue"]), "retries": len(checked["retries_due"]),
                "expired": len(expired)}

    if "tick" in args.parts:
        # The backlog after downtime (1% of the register due for review, 1,000 callbacks overdue) is
        # worked off tick by tick, each committed; then the steady tick finds nothing new.
        with Session(engine) as session:  # the first tick's queries and memory, rolled back
            counter.n = 0
            tracemalloc.start()
            tick(session, now)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            session.rollback()
        queries, backlog, done = counter.n, [], {}
        for minute in range(60):
            with Session(engine) as session:  # timed without tracemalloc's overhead, committed
                started = time.perf_counter()
                made = tick(session, now + timedelta(minutes=minute))
                backlog.append(time.perf_counter() - started)
                session.commit()
            done = {k: done.get(k, 0) + n for k, n in made.items()}
            if not any(made.values()):
                break
        with psycopg.connect(ringtime.bench_conninfo(args), autocommit=True) as conn:
            # what autovacuum does within its naptime (1 min) after the backlog's inserts: with the
            # statistics of the emptied table, the planner would scan the reminders once per entry
            conn.execute("ANALYZE register_reminders, email_deliveries, outbox_jobs, callback_tasks")
        worked_off = ", ".join(f"{n:,} {k}" for k, n in done.items())
        print(f"backlog worked off in {len(backlog) - 1} ticks: {worked_off}")
        ok &= report("tick, backlog (each tick)", backlog[:-1], queries, peak, None, TARGETS["tick"], each=True)
        ok &= report("tick, steady (every minute)", *timed(engine, counter, args.rounds,
                                                           lambda s: tick(s, now + timedelta(minutes=61))), TARGETS["tick"])
    for weeks in (12, 52) if "trends" in args.parts else ():
        ok &= report(f"trends, {weeks} weeks", *timed(engine, counter, args.rounds,
                                                     lambda s, weeks=weeks: trends.report(s, now, settings, weeks)), TARGETS["trends"])
    print("all targets met" if ok else "a target was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
