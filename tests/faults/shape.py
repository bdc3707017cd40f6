"""The production shape for the fault suite (issue 12): what the README's production section runs,
started here on 127.0.0.1 and stopped by the test: gunicorn serving `wsgi:app`, `rq worker`
processes (WORKER_ARGV: the README's `rq worker` command, read from here only), `rq cron` (the
periodic scheduler), PostgreSQL (a database of its own per module, on the suite's server), a Redis
server of its own (so it can be killed and restarted without touching the machine's), and the
HTTP Twilio stand-in (bench/twilio_http_standin.py) that sends signed status callbacks back."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from app.cli.db_cmd import upgrade
from bench.twilio_http_standin import StandIn

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
TOKEN = "faults-auth-token"
# The README's worker command (production section), in one place: a renamed worker class is one line here.
WORKER_ARGV = ["rq", "worker", "--url", "{redis_url}", "--with-scheduler", "--worker-class",
               "app.worker.CallguardWorker", "--name", "{name}", "callguard-urgent", "callguard"]
ACCOUNT = "AC" + "f" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 20, what: str = "condition"):
    """Poll `predicate` (a few ms apart) until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # the service is restarting, a connection was refused: ask again
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def fresh_database(server_url: str, name: str = "faults_shape") -> str:
    """Drop and create database `name` on the server of `server_url`; returns its URL, migrated."""
    url = make_url(server_url)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    target = url.set(database=name).render_as_string(hide_password=False)
    upgrade(target)
    return target


class Shape:
    """Starts and stops the processes; every one is started in its own process group and killed by id."""

    def __init__(self, database_url: str, tmp: Path, workers: int = 2, env: dict | None = None):
        self.tmp = tmp
        self.database_url = database_url
        self.redis_port, self.web_port = free_port(), free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.standin = StandIn()
        self.standin.status_url, self.standin.auth_token = self.base + "/twilio/voice/status", TOKEN
        self.procs: dict[str, subprocess.Popen] = {}
        self.argv: dict[str, list] = {}
        self.restarts = 0
        self.env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": self.redis_url,
                    "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
                    "TWILIO_API_BASE_URL": self.standin.url, "PUBLIC_BASE_URL": self.base,
                    "TWILIO_CALLER_ID": "+441632960000", "SECRET_KEY": "f" * 40, "CALLGUARD_ENV": "production",
                    "CALLGUARD_TICK_S": "1", "CALLGUARD_SWEEP_S": "1", "OUTBOX_LEASE_S": "3", "OUTBOX_BACKOFF_S": "1",
                    "PYTHONPATH": str(ROOT)}
        self.env.pop("CI", None)
        self.env.update(env or {})  # bench/soak.py: the proxy's settings
        self.start_redis()
        self.start_web()
        for n in range(workers):
            self.start_worker(f"worker{n}")
        self.start("cron", [BIN / "rq", "cron", "workers/cron_config.py", "--url", self.redis_url])

    def start(self, name: str, argv: list) -> subprocess.Popen:
        self.argv[name] = argv
        log = open(self.tmp / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([str(a) for a in argv], cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self.procs[name]

    def start_redis(self) -> None:
        self.start("redis", ["redis-server", "--port", self.redis_port, "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", self.tmp])
        import redis

        wait_until(lambda: redis.Redis.from_url(self.redis_url).ping(), what="redis")

    def start_web(self) -> None:
        self.start_gunicorn("web", self.web_port)

    def start_gunicorn(self, name: str, port: int, workers: int = 1, threads: int = 8) -> None:
        """The README's gunicorn command (gthread) on 127.0.0.1:`port`; returns once /readyz answers 200
        (database and Redis reached), as a load balancer's readiness check sends it traffic only then."""
        self.start(name, [BIN / "gunicorn", "--config", "gunicorn.conf.py", "--worker-class", "gthread",
                          "--workers", workers, "--threads", threads, "--bind", f"127.0.0.1:{port}", "wsgi:app"])
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).ok, 60, "gunicorn")

    def start_worker(self, name: str) -> None:
        argv = [a.format(redis_url=self.redis_url, name=f"{name}-{self.web_port}") for a in WORKER_ARGV]
        self.start(name, [BIN / argv[0], *argv[1:]])

    def revive(self) -> int:
        """What a supervisor (systemd `Restart=always`) does: start again any process that exited on
        its own (an `rq worker` or `rq cron` gives up when Redis is gone). Returns how many."""
        dead = [name for name, proc in self.procs.items() if proc.poll() is not None]
        for name in dead:
            self.procs.pop(name).wait()
            self.start(name, self.argv[name])
        self.restarts += len(dead)
        return len(dead)

    def kill(self, name: str) -> None:
        """kill -9 the process (and the process group it leads: gunicorn's own worker with it)."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)
        self.standin.stop()

    def signed_post(self, path: str, form: dict, timeout: float = 5) -> requests.Response:
        """A webhook signed as Twilio signs it (RequestValidator)."""
        url = self.base + path
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        return requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=timeout)

    def api(self, method: str, path: str, headers: dict, **kwargs) -> requests.Response:
        return requests.request(method, self.base + "/api/v1" + path, headers=headers, timeout=5, **kwargs)
