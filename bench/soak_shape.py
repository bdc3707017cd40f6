"""The production shape scaled out for the soak (issue 13 item 7), on 127.0.0.1 only: the fault
suite's shape (tests/faults/shape.py: Redis of its own, `rq worker` x 2, `rq cron`, the HTTP Twilio
stand-in) with its single gunicorn replaced by two gunicorns (the README's command, each on its own
port) behind HAProxy (Debian's `haproxy`, started as a plain foreground process with a config
written into the run's temporary directory). `base` is the proxy: every request, and the stand-in's
status callbacks, go through it; PUBLIC_BASE_URL is the proxy's URL, so signatures match."""
import shutil
from pathlib import Path

import requests

from app import create_app
from app.cli.users_cmd import add_user
from app.db import db_session
from tests.faults.shape import Shape, free_port, wait_until

HAPROXY_CFG = """global
    maxconn 4096
defaults
    mode http
    option forwardfor
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
frontend callguard
    bind 127.0.0.1:{port}
    default_backend web
backend web
    balance roundrobin
    option httpchk GET /healthz
{servers}
"""
TEAM = "Soak team"
MANAGER_PHONE = "+447700900100"


class ScaledShape(Shape):
    """`Shape` with `web_instances` gunicorns (`web_workers` x `web_threads` each) behind HAProxy."""

    def __init__(self, database_url: str, tmp: Path, web_instances: int = 2, web_workers: int = 4,
                 web_threads: int = 32, workers: int = 2):
        if shutil.which("haproxy") is None:
            raise SystemExit("haproxy is not installed: apt-get install -y haproxy")
        self.web_instances, self.web_workers, self.web_threads = web_instances, web_workers, web_threads
        try:
            super().__init__(database_url, tmp, workers=workers, env={"TRUSTED_PROXY_HOPS": "1"})
        except BaseException:  # a process that did not come up: stop the ones that did, then fail
            if hasattr(self, "procs"):
                self.stop()
            raise

    def start_web(self) -> None:
        """Both gunicorns, then the proxy in front of them on `web_port`; returns once the proxy answers."""
        ports = [free_port() for _ in range(self.web_instances)]
        for n, port in enumerate(ports):
            self.start_gunicorn(f"web{n}", port, self.web_workers, self.web_threads)
        servers = "\n".join(f"    server web{n} 127.0.0.1:{port} check inter 1s" for n, port in enumerate(ports))
        config = self.tmp / "haproxy.cfg"
        config.write_text(HAPROXY_CFG.format(port=self.web_port, servers=servers))
        self.start("haproxy", ["haproxy", "-db", "-f", config])
        wait_until(lambda: requests.get(self.base + "/healthz", timeout=1).ok, 30, "haproxy")

    def seed_team(self, handlers: int) -> dict:
        """One team: a line manager (with a phone, for callbacks, M1) and `handlers` call handlers (with
        phones: accept rings them in). Returns their API headers: {"manager": ..., "handlers": [...]}."""
        app = create_app({"DATABASE_URL": self.database_url, "REDIS_URL": None, "SECRET_KEY": "s" * 40})
        with app.app_context():
            session = db_session()
            _, manager = add_user(session, "manager", "line_manager", None, TEAM, MANAGER_PHONE, "GB")
            tokens = [add_user(session, f"handler{n}", "call_handler", "manager", TEAM, f"+4477009002{n:02d}", "GB")[1]
                      for n in range(handlers)]
            session.commit()
        app.extensions["engine"].dispose()
        return {"manager": {"Authorization": f"Bearer {manager}"},
                "handlers": [{"Authorization": f"Bearer {token}"} for token in tokens]}
