"""A private PostgreSQL cluster for one fault test (issue 12 fault 4, "PostgreSQL restarted"):
Debian's initdb and pg_ctl, its data directory in a temporary directory, its own port on
127.0.0.1, trust authentication. The machine's main cluster (5432, which CI and other tests use) is
never touched. As root the binaries run as the `postgres` user (initdb refuses root)."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.faults.shape import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Cluster:
    """`start()`, `restart()` (pg_ctl restart -m fast), `stop()` / `start()`, `destroy()` (stops it
    if running and removes its directory; safe to call twice). `url`: its `postgres` database."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="callguard-pg-"))
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", self.dir / "data", "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args) -> None:
        subprocess.run([*self.as_postgres, str(PG_BIN / tool), *map(str, args)], check=True,
                       capture_output=True, timeout=60)

    def _ctl(self, *args) -> None:
        self._run("pg_ctl", "-D", self.dir / "data", "-l", self.dir / "server.log", "-w", "-t", "30", *args)

    def start(self) -> None:
        self._ctl("start", "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off")

    def restart(self) -> None:
        """pg_ctl restart -m fast: every connection is terminated, open transactions roll back."""
        self._ctl("restart", "-m", "fast")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def destroy(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
