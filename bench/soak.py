#!/usr/bin/env python3
"""Soak of the production shape scaled out (issue 13 item 7), on 127.0.0.1 only.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 2] [--warn 0.4] [--terminate 0.2] [--dial 1]

Starts (bench/soak_shape.py, built on tests/faults/shape.py): a fresh PostgreSQL database
(`--db`, dropped and migrated), a Redis server of its own on a free port, two gunicorns serving
`wsgi:app` with the README's command behind HAProxy, two RQ workers (the README's worker command),
one `rq cron` scheduler (ticking every second, CALLGUARD_TICK_S=1, as the fault suite does) and the
HTTP Twilio stand-in, which sends signed status callbacks back through the proxy. Then `--minutes` of
mixed traffic through the proxy (bench/soak_traffic.py), waits for it to settle and checks
(bench/soak_check.py): every request answered with its expected status (no 5xx), every ring and
press stored once and played, exactly one callback task per termination, every side effect once at
the stand-in (the press's redirect, the handler's leg, the callback dial). Prints a table per minute
and plots throughput and latency over time (`--png`). Stops every process it started. Exits 1 when
an invariant fails.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak_check import Ledger, requests_answered  # noqa: E402
from bench.soak_report import plot, table  # noqa: E402
from bench.soak_shape import ScaledShape  # noqa: E402
from bench.soak_traffic import Mix, Traffic  # noqa: E402
from tests.faults.shape import fresh_database  # noqa: E402

LEGEND = ("ms p50/p99 from sending a request to its answer, through the proxy; status: Twilio's status callbacks "
          "(in-progress, completed); X->platform: from the press to its redirect's arrival at the stand-in")

NUMBERS = (  # option, type, default, help (the default is shown in the help)
    ("--minutes", float, 10, "length of the traffic"),
    ("--rate", float, 2.0, "calls started per second"),
    ("--warn", float, 0.4, "share of calls warned"),
    ("--terminate", float, 0.2, "share of calls terminated (unwarned ones with an immediate reason, T3)"),
    ("--dial", float, 1.0, "share of terminations the line manager claims and dials (M1)"),
    ("--step-s", float, 1.0, "pause between a call's steps, s"),
    ("--handlers", int, 8, "call handlers in the team"),
    ("--web-workers", int, 4, "gunicorn workers per instance (the README's 4)"),
    ("--web-threads", int, 32, "threads per gunicorn worker (the README's 32)"),
    ("--settle-s", float, 120, "longest wait for the work to settle after the traffic, s"),
    ("--seed", int, 13, "seed of each call's choices"),
)


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag, kind, default, text in NUMBERS:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} ({default:g})")
    parser.add_argument("--server", default=os.environ.get("SOAK_DATABASE_SERVER",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="PostgreSQL server (any database on it; SOAK_DATABASE_SERVER)")
    parser.add_argument("--db", default="callguard_soak", help="database name, dropped and created (callguard_soak)")
    parser.add_argument("--png", default=str(ROOT / "bench" / "soak.png"), help="plot (bench/soak.png); '' for none")
    return parser.parse_args(argv)


def soak(args: argparse.Namespace, tmp: Path) -> tuple[list[str], str, dict]:
    """Run the soak; (failures, report text, counts: calls, requests, presses, terminations, dials)."""
    url = fresh_database(args.server, args.db)
    shape = ScaledShape(url, tmp, web_workers=args.web_workers, web_threads=args.web_threads)
    try:
        team = shape.seed_team(args.handlers)
        mix = Mix(rate=args.rate, warn=args.warn, terminate=args.terminate, dial=args.dial, step_s=args.step_s)
        traffic = Traffic(shape, team, mix, seed=args.seed)
        load = os.getloadavg()[0]
        traffic.run(args.minutes * 60)
        seconds = time.perf_counter() - traffic.started
        ledger = Ledger(traffic, url)
        settled = ledger.settle(args.settle_s)
        records = traffic.records + traffic.status_callbacks()
        press = traffic.press_to_platform()
        failures = [f"generator: {e.splitlines()[-1]}" for e in traffic.errors]
        failures += [] if settled else [f"not settled after {args.settle_s:g} s: {ledger.unsettled()} outstanding"]
        failures += requests_answered(records) + ledger.database() + ledger.side_effects()
        failures += [f"{sum(p['ms'] is None for p in press)} presses never reached the platform"] * any(
            p["ms"] is None for p in press)
        ledger.engine.dispose()
    finally:
        shape.stop()
    header = (f"soak: {args.minutes:g} min, {args.rate:g} calls/s (warn {args.warn:g}, terminate {args.terminate:g}, "
              f"dial {args.dial:g}), 2 x gunicorn {args.web_workers}x{args.web_threads} behind HAProxy, 2 RQ workers, "
              f"rq cron; {len(traffic.callers)} calls, {len(records)} requests, {len(traffic.presses)} calls pressed, "
              f"{len(traffic.dialled)} callbacks dialled; load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    report = f"{header}\n\n{table(records, press, seconds, args.minutes * 60)}\n\n{LEGEND}"
    if args.png:
        plot(records, press, args.png, f"callguard soak, {args.rate:g} calls/s through HAProxy (2 gunicorns)")
    counts = {"calls": len(traffic.callers), "requests": len(records), "presses": len(press),
              "terminations": sum(p["kind"] == "terminate" for p in press), "dials": len(traffic.dialled)}
    return failures, report, counts


def main(argv=None) -> int:
    args = options(argv)
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    failures, report, _ = soak(args, tmp)
    print(report)
    for failure in failures:
        print("FAIL:", failure)
    if failures:
        print(f"the processes' logs are kept in {tmp}")
    else:
        shutil.rmtree(tmp)
    print("invariants: " + ("FAILED" if failures else "all held"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
