"""bench/ringtime.py's servers (gunicorn for callguard and the bare endpoint), the live-event count,
and the cache's freshness probe (commit to seen at ring time)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.ringtime_db import bench_conninfo, sqlalchemy_url  # noqa: E402
from storage.ring_journal_wire import PENDING  # noqa: E402
from bench.ringtime_load import ACCOUNT_SID, AUTH_TOKEN, RUN_TAG, request_params  # noqa: E402

# Freshness: from a register entry's commit to the first ring that sees it

PROBE_BASE = 9_000_000  # customer ids (and +44754 numbers) of the freshness probe, removed each run


def freshness(args, port: int, samples: int = 20) -> list[float]:
    """For `samples` new numbers: commit an in-force register entry, then ring (each ring a new
    CallSid, signed) until a ring stores the marker (calls.ring_marker). Returns the times in ms from
    the commit to the end of that ring: with the query at every ring this is one ring's latency; a
    ring-time cache must keep it under 1 s (issue 13 item 2)."""
    from redis import Redis
    redis = Redis.from_url(args.redis_url)
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
                marker = ring_marker(conn, redis, sid)
                if marker is not None:
                    times.append((seen - committed) * 1000)
                    break
                if seen - committed > 10:
                    times.append(float("inf"))
                    break
    return times


def ring_marker(conn, redis, sid: str):
    """The marker ring time stored for `sid`: on its row waiting in the ring journal (written behind,
    storage/ring_journal.py) or on its row in `calls`."""
    waiting = redis.hget(PENDING, sid)
    if waiting is not None:
        return json.loads(waiting)["ring_marker"]
    row = conn.execute("SELECT ring_marker FROM calls WHERE call_sid = %s", (sid,)).fetchone()
    return row[0] if row else None


def wait_for_journal(args, timeout_s: float = 15.0) -> int:
    """Wait until the ring journal has written every waiting row (its flushers run every second at
    most); returns how many still wait at the end."""
    from redis import Redis
    redis = Redis.from_url(args.redis_url)
    deadline = time.monotonic() + timeout_s
    while (waiting := redis.hlen(PENDING)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return waiting


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
               CALLGUARD_ENV="production", PYTHONDONTWRITEBYTECODE="1",
               CALLGUARD_RING_SNAPSHOT="1" if args.ring_snapshot == "on" else "0",  # issue 13: flags from memory
               CALLGUARD_RING_JOURNAL="1" if getattr(args, "ring_journal", "on") == "on" else "0")  # rows written behind
    return env


