"""What each pytest-xdist worker gets of its own, so workers never share state (issue 11).

pytest.ini runs the suite on several workers (`-n`); `-n0` or `-p no:xdist` runs it in one process,
with the names below unchanged (WORKER is None):

- PostgreSQL: the database of TEST_DATABASE_URL (CI default `test`) plus the worker's id: `test_gw0`,
  `test_gw1`, ... on the same server, created by the session fixture if missing (tests/conftest.py).
  Scratch databases the fault tests drop and create are prefixed with that name too (`scratch_db`), so
  neither two workers nor two checkouts on one server ever drop each other's.
- Redis: worker gwN uses db (base + 5 * N) mod 16, where base is TEST_REDIS_URL's db (CI default 15:
  15, 4, 9, 14, ...; 3: 3, 8, 13, 2, ...). 5 and 16 share no factor: 16 workers get 16 different dbs.
- Redis pub/sub is server-wide, not per db: the live-event channel is named per worker too
  (EVENTS_CHANNEL, `callguard:events:test:gw0`), so a test subscribed to it never hears another's.
- SQLite (local runs) is a file under the worker's own basetemp; the mail outbox a directory per worker.
- TCP ports (Prism, live servers, gunicorn, Redis servers of the fault shape) come from the OS.
"""
import os

from sqlalchemy.engine import make_url

WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... under xdist; None in one process
REDIS_DB_STEP = 5


def worker_number() -> int:
    return int(WORKER.removeprefix("gw")) if WORKER else 0


def database_url(base: str) -> str:
    """`base` with the worker's id appended to its database name (unchanged without xdist)."""
    if WORKER is None:
        return base
    url = make_url(base)
    return url.set(database=f"{url.database}_{WORKER}").render_as_string(hide_password=False)


def redis_url(base: str) -> str:
    """`base` on the worker's own db: (base db + 5 * worker number) mod 16."""
    if WORKER is None:
        return base
    head, _, db = base.rstrip("/").rpartition("/")
    if not db.isdigit():  # redis://host:port without a db: db 0
        head, db = base.rstrip("/"), "0"
    return f"{head}/{(int(db) + REDIS_DB_STEP * worker_number()) % 16}"


def events_channel(pg_url: str) -> str:
    """The live-event channel for this run: per database and per worker (pub/sub ignores the db)."""
    return f"callguard:events:{make_url(pg_url).database}:{WORKER or 'main'}"


def scratch_db(pg_url: str, name: str) -> str:
    """A scratch database's name for this worker: the test database's name, then `name`."""
    return f"{make_url(pg_url).database}_{name}"


def suffix(name: str) -> str:
    """`name` with the worker's id (for directories shared between workers, e.g. the mail outbox)."""
    return f"{name}-{WORKER}" if WORKER else name
