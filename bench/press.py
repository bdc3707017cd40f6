#!/usr/bin/env python3
"""Press-to-platform benchmark (9.16): from a handler's press of Warn or Terminate to the Twilio REST
request that plays it, on the README's production shape.

    .venv/bin/python bench/press.py [--calls 40] [--rq-workers 2] [--worker-command "..."]

1. PostgreSQL database `callguard_bench_press` (its own; created and migrated, emptied every run)
   and Redis db 9 (flushed every run).
2. A local HTTP stand-in for Twilio's REST API (bench/twilio_http_standin.py) that records when
   each request arrives.
3. The README's production processes on 127.0.0.1: `gunicorn --worker-class gthread --workers 4
   --threads 32 wsgi:app`, the README's worker command (`--rq-workers` copies of it) and its one
   `rq cron` (the outbox sweep that hands over due retries), with Twilio credentials whose REST API is the stand-in.
4. For each call: a signed inbound webhook, accept (the handler's leg is dialled), then Warn: the
   time from sending `POST /api/v1/calls/{sid}/warnings` to the redirect's arrival at the stand-in;
   then Terminate, likewise. One call at a time, as a handler would.
   `--backlog N`: N jobs of 50 ms each are put on the plain queue before every press (a burst of
   e-mails ahead of it).
5. A hung Twilio request: one call's warning is never answered by the stand-in; the next caller's
   warning, pressed right after it, must reach the platform without waiting for the hung request
   to time out (another worker takes it), and the hung warning is retried (Twilio client timeout,
   then the outbox's backoff, handed over by `rq cron`'s sweep).

Prints p50/p99/max per act and exits 1 when a p99 misses `--target-ms` (50) or the hung request
held up the next caller or was not retried. Traffic goes to 127.0.0.1 only.
"""
import argparse
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.ringtime_db import database_options, ensure_database, migrate, sqlalchemy_url  # noqa: E402
from bench.ringtime_load import AUTH_TOKEN  # noqa: E402
from bench.ringtime_servers import Server, free_port, server_env  # noqa: E402
from app.platform import TWILIO_TIMEOUT_S  # noqa: E402
from bench.twilio_http_standin import StandIn  # noqa: E402

ACCOUNT_SID = "AC" + "e" * 32
CRON_COMMAND = ".venv/bin/rq cron workers/cron_config.py --url {url}"  # as the README runs it
WORKER_COMMAND = (".venv/bin/rq worker --url {url} --with-scheduler "
                  "--worker-class app.worker.CallguardWorker callguard-urgent callguard")  # the README's
WAIT_S = 30.0
BACKLOG_MS = 50  # one backlog job (`--backlog`): about an e-mail's SMTP round trips


def reset_state(args) -> dict:
    """Empty the bench database and Redis db, then add a team: a line manager and a handler."""
    from redis import Redis
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(sqlalchemy_url(args))
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    Redis.from_url(args.redis_url).flushdb()

    from app import create_app
    from app.cli.users_cmd import add_user
    from app.db import db_session

    app = create_app({"DATABASE_URL": sqlalchemy_url(args), "REDIS_URL": None, "SECRET_KEY": "bench"})
    with app.app_context():
        session = db_session()
        add_user(session, "manager", "line_manager", None, "Bench team", "+447700900001", "GB")
        _, token = add_user(session, "handler", "call_handler", "manager", "Bench team", "+447700900002", "GB")
        session.commit()
    app.extensions["engine"].dispose()
    return {"Authorization": f"Bearer {token}"}


def start_workers(args, env: dict, log_dir: Path) -> list[subprocess.Popen]:
    from redis import Redis
    from rq import Worker

    procs = []
    for n in range(args.rq_workers):
        log = open(log_dir / f"rq-worker-{n}.log", "wb")
        procs.append(subprocess.Popen(shlex.split(args.worker_command.format(url=args.redis_url)), cwd=ROOT, env=env,
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    log = open(log_dir / "rq-cron.log", "wb")  # the README's one scheduler: it hands over due retries (sweep)
    procs.append(subprocess.Popen(shlex.split(CRON_COMMAND.format(url=args.redis_url)), cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    redis = Redis.from_url(args.redis_url)
    deadline = time.monotonic() + 120
    while Worker.count(connection=redis) < args.rq_workers:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            sys.exit(f"the workers did not start; see {log_dir}")
        time.sleep(0.1)
    return procs


def add_backlog(args) -> None:
    """`--backlog` jobs of BACKLOG_MS on the plain queue (`callguard`, where e-mails go), as a burst of
    e-mails would be, just before a press: a warning must not wait behind them (callguard-urgent)."""
    if not args.backlog:
        return
    from redis import Redis
    from rq import Queue

    queue = Queue("callguard", connection=Redis.from_url(args.redis_url))
    for _ in range(args.backlog):
        queue.enqueue("time.sleep", BACKLOG_MS / 1000)


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class Desk:
    """A handler's desk against the running service: ring, accept, press."""

    def __init__(self, base: str, headers: dict, standin: StandIn):
        self.base, self.headers, self.standin = base, headers, standin
        self.http = requests.Session()
        self.validator = RequestValidator(AUTH_TOKEN)
        self.n = 0
        self.answered: dict[str, list[float]] = {"warn": [], "terminate": []}  # ms until the API answered

    def ring_and_accept(self) -> str:
        self.n += 1
        sid = "CA" + f"{self.n:032x}"
        params = {"CallSid": sid, "From": f"+4477009{self.n % 100000:05d}", "To": "+441632960000",
                  "CallStatus": "ringing", "AccountSid": ACCOUNT_SID}
        url = self.base + "/twilio/voice/inbound"
        signed = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
        ring = self.http.post(url, data=params, headers=signed)
        assert ring.status_code == 200, ring.text
        dialled = self.standin.other
        accept = self.http.post(f"{self.base}/api/v1/calls/{sid}/accept", headers=self.headers)
        assert accept.status_code == 200, accept.text
        if not self.standin.wait_other(dialled + 1, WAIT_S):  # the handler's leg was dialled
            raise RuntimeError(f"accept of {sid} never reached the platform")
        return sid

    def press(self, sid: str, act: str, nth: int, wait: bool = True) -> float | None:
        """Press `act` ('warn' or 'terminate'); ms until the platform got the `nth` update of `sid`."""
        path, body = (("warnings", {"reason": "abuse"}) if act == "warn" else ("termination", {"reason": "abuse"}))
        started = time.perf_counter()
        answer = self.http.post(f"{self.base}/api/v1/calls/{sid}/{path}", json=body, headers=self.headers)
        self.answered[act].append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 201, answer.text
        if not wait:
            return None
        arrived = self.standin.wait_update(sid, nth, WAIT_S)
        return None if arrived is None else (arrived - started) * 1000


def summary(name: str, values: list[float]) -> tuple[str, float]:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = statistics.quantiles(ordered, n=100, method="inclusive")[98] if len(ordered) > 1 else ordered[0]
    return f"{name:<10} n={len(ordered):3d}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {ordered[-1]:7.1f} ms", p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="measured calls (40), each warned then terminated")
    parser.add_argument("--warmup", type=int, default=2, help="calls before measuring (2)")
    parser.add_argument("--target-ms", type=float, default=50.0, help="p99 target per act (50 ms)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (README: 4)")
    parser.add_argument("--threads", type=int, default=32, help="gunicorn threads per worker (README: 32)")
    parser.add_argument("--rq-workers", type=int, default=2, help="copies of the worker command (2)")
    parser.add_argument("--worker-command", default=WORKER_COMMAND,
                        help="the README's worker command; {url} is the Redis URL")
    parser.add_argument("--backlog", type=int, default=0,
                        help="jobs of BACKLOG_MS each put on the plain queue before every press (0): e-mails ahead")
    parser.add_argument("--no-hang", action="store_true", help="skip the hung-Twilio-request check")
    database_options(parser, "callguard_bench_press", "redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    args.reseed, args.worker_class = False, "gthread"

    ensure_database(args)
    migrate(args)
    headers = reset_state(args)
    standin = StandIn()
    port = free_port()
    env = server_env(args, port)
    env.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=standin.url)
    log_dir = Path(tempfile.mkdtemp(prefix="press-"))
    print(f"gunicorn -k gthread -w {args.workers} --threads {args.threads}; {args.rq_workers} x "
          f"`{args.worker_command.format(url=args.redis_url)}`; logs in {log_dir}", flush=True)
    server, workers, problems, desk = None, [], [], None
    times: dict[str, list[float]] = {"warn": [], "terminate": []}
    try:
        server = Server("callguard", "wsgi:app", port, env, args, log_dir)
        workers = start_workers(args, env, log_dir)
        server.wait_ready("/healthz")
        desk = Desk(f"http://127.0.0.1:{port}", headers, standin)
        for n in range(args.warmup + args.calls):
            sid = desk.ring_and_accept()
            for act, nth in (("warn", 1), ("terminate", 2)):
                add_backlog(args)
                ms = desk.press(sid, act, nth)
                if ms is None:
                    problems.append(f"{act} on {sid} never reached the platform")
                elif n >= args.warmup:
                    times[act].append(ms)
        if not args.no_hang:
            hung, next_caller = desk.ring_and_accept(), desk.ring_and_accept()
            standin.hang.add(hung)
            desk.press(hung, "warn", 1, wait=False)
            ms = desk.press(next_caller, "warn", 1)
            print(f"hung Twilio request: the next caller's warning reached the platform in "
                  f"{'never' if ms is None else f'{ms:.1f} ms'}")
            if ms is None or ms >= TWILIO_TIMEOUT_S * 1000:  # it waited for the hung request to time out
                problems.append("a hung Twilio request held up the next caller's warning")
            retried = standin.wait_update(hung, 2, 60)
            print("hung request: " + ("retried after the Twilio timeout" if retried else "NOT retried within 60 s"))
            if not retried:
                problems.append("the hung warning was not retried within 60 s")
    finally:
        stop(workers)
        if server:
            server.stop()
        standin.stop()
    ok = not problems
    for act, values in times.items():
        if not values:
            continue
        line, p99 = summary(act, values)
        print(line)
        if p99 >= args.target_ms:
            problems.append(f"{act} p99 {p99:.1f} ms misses the {args.target_ms:g} ms target")
            ok = False
    for act, values in (desk.answered.items() if desk else ()):
        print(summary(f"(API {act} answered)", values)[0])
    for problem in problems:
        print("FAIL:", problem)
    return 0 if ok and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
