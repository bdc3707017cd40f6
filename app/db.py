"""SQLAlchemy engine, a session per request (flaskr's get/close pattern, on SQLAlchemy 2) and the
request's unit of work."""
from contextlib import contextmanager

from flask import current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

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
    # `config` lets services read PUBLIC_BASE_URL (the links in emails, call_flows/jobs/mail.py) without Flask
    app.extensions["sessionmaker"] = session_factory(sessionmaker(app.extensions["engine"], expire_on_commit=False,
                                                                  info={"config": app.config}))
    app.teardown_appcontext(close_session)


def engine() -> Engine:
    return current_app.extensions["engine"]


@contextmanager
def ring_connection():
    """The connection ring time uses (a context manager).

    PostgreSQL: the pooled connection in autocommit for the block, so the ring statement (one
    data-modifying CTE) is its own transaction and ring time is one round trip, without a BEGIN and a
    COMMIT of its own. psycopg's autocommit flag is set directly (no round trip, and far cheaper than
    a per-checkout isolation_level option) and always restored before the connection goes back to the
    pool. SQLite runs a SELECT and an INSERT, so there the block is a transaction.
    """
    eng = current_app.extensions["engine"]
    if eng.dialect.name != "postgresql":
        with eng.begin() as conn:
            yield conn
        return
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
