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
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ringtime_db import (calls_since, database_options, ensure_database, explain_ring, forget_previous_runs,  # noqa: E402
                               max_call_id, migrate, seed)
from bench.ringtime_load import CPU_PARTS, LUA, CpuMeter, Totals, run_wrk, write_requests  # noqa: E402
from bench.ringtime_servers import RingEvents, Server, free_port, freshness, gunicorn_args, server_env, wait_for_journal  # noqa: E402

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
    database_options(parser, "callguard_bench", "redis://127.0.0.1:6379/7")
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
    print(f"gunicorn {config} for both endpoints (callguard ring snapshot {args.ring_snapshot}, journal {args.ring_journal}); wrk -t {args.wrk_threads} -c {args.connections}; "
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
            waiting = wait_for_journal(args)
            if waiting:
                problems.append(f"callguard: {waiting} rings still wait in the ring journal after 15 s")
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
