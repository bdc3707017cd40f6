"""SQLAlchemy engine, a session per request (flaskr's get/close pattern, on SQLAlchemy 2) and the
request's unit of work."""
import os
import threading
from contextlib import contextmanager

from flask import current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from call_flows.calls.pending import PendingCalls
from call_flows.unit_of_work import SqlAlchemyUnitOfWork, session_factory


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # Fail fast when PostgreSQL is unreachable, so ring time can still answer TwiML.
    return create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=False, pool_timeout=2,
                         connect_args={"connect_timeout": 2, "options": "-c statement_timeout=5000"})


def init_app(app) -> None:
    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"])
    if app.extensions["engine"].dialect.name == "postgresql":
        app.extensions["ring_kept_connection"] = KeptRingConnection(app.extensions["engine"])
    # `config` lets services read PUBLIC_BASE_URL (the links in emails, call_flows/jobs/mail.py) without Flask
    # `pending_calls`: rows ring time writes behind, stored when a call is looked up (call_flows/calls/pending.py)
    app.extensions["pending_calls"] = PendingCalls()
    app.extensions["sessionmaker"] = session_factory(sessionmaker(app.extensions["engine"], expire_on_commit=False,
                                                                  info={"config": app.config,
                                                                        "pending_calls": app.extensions["pending_calls"]}))
    app.teardown_appcontext(close_session)


def engine() -> Engine:
    return current_app.extensions["engine"]


class KeptRingConnection:
    """One PostgreSQL connection per process kept out of the engine's pool between rings, in autocommit
    (issue 13): a ring then skips the pool's checkout and return, the Connection's set-up and the
    autocommit switching, a tenth of its CPU. Only one: a ring that finds it taken (another thread's
    ring) uses the pool as before, so the pool's capacity for everything else shrinks by one at most.
    A ring that fails gives its connection back to the pool (as before), never keeps it; a forked child
    never uses its parent's; the engine's dispose closes it."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._kept: Connection | None = None
        self._pid = os.getpid()
        event.listen(engine, "engine_disposed", lambda *_: self.close())

    def take(self) -> Connection | None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's socket is not its own
                self._kept, self._pid = None, os.getpid()
            conn, self._kept = self._kept, None
        return conn

    def keep(self, conn: Connection) -> bool:
        with self._lock:
            if self._kept is None and self._pid == os.getpid():
                self._kept = conn
                return True
        return False

    def close(self) -> None:
        with self._lock:
            conn, self._kept = self._kept, None
        if conn is not None:
            _give_back(conn)


def _give_back(conn: Connection) -> None:
    """Back to the pool, out of autocommit (a broken connection is invalidated, never pooled in autocommit)."""
    try:
        driver = conn.connection.driver_connection
        assert driver is not None  # a live pooled connection always has its psycopg connection
        driver.autocommit = False
    except Exception:
        conn.invalidate()
    conn.close()


@contextmanager
def ring_connection():
    """The connection ring time uses (a context manager).

    PostgreSQL: a connection in autocommit for the block, so the ring statement (one data-modifying
    CTE) is its own transaction and ring time is one round trip, without a BEGIN and a COMMIT of its
    own. psycopg's autocommit flag is set directly (no round trip, and far cheaper than a per-checkout
    isolation_level option) and always restored before the connection goes back to the pool; the
    process's KeptRingConnection stays in autocommit between rings. SQLite runs a SELECT and an
    INSERT, so there the block is a transaction.
    """
    eng = current_app.extensions["engine"]
    if eng.dialect.name != "postgresql":
        with eng.begin() as conn:
            yield conn
        return
    kept = current_app.extensions.get("ring_kept_connection")
    if kept is None or kept.engine is not eng:  # no kept connection (or a test's stand-in engine)
        with eng.connect() as conn:
            driver = conn.connection.driver_connection
            driver.autocommit = True
            try:
                yield conn
            finally:
                try:
                    driver.autocommit = False
                except Exception:  # a broken connection must not go back to the pool in autocommit
                    conn.invalidate()
        return
    conn = kept.take()
    if conn is None:
        conn = eng.connect()
        try:
            conn.connection.driver_connection.autocommit = True
        except BaseException:
            conn.close()
            raise
    try:
        yield conn
    except BaseException:
        _give_back(conn)
        raise
    if conn.in_transaction():  # SQLAlchemy's own autobegin (settings, C3 routing): no round trip in autocommit
        conn.rollback()
    if not kept.keep(conn):
        _give_back(conn)


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["sessionmaker"]()
    return g.db_session


def unit_of_work() -> SqlAlchemyUnitOfWork:
    """The request's unit of work, on the request's session (call_flows/unit_of_work.py): every
    view writes through it (`with unit_of_work() as uow: ...; uow.commit()`)."""
    return SqlAlchemyUnitOfWork(current_app.extensions["handover"], db_session())


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
