"""A rolled-back transaction per test (SQLAlchemy 2's "joining a session into an external transaction").

`TestTransaction` opens one connection and an outer transaction, lazily, the first time a test binds an
app to it. `bind(app)` points the app's `sessionmaker` at that connection with
`join_transaction_mode="create_savepoint"` (each session commit releases a SAVEPOINT, never the outer
transaction) and puts `SavepointEngine` in `app.extensions["engine"]`, so code that takes a connection
from the engine (ring time, /readyz) runs in a SAVEPOINT on the same connection. `close()` rolls the
outer transaction back and gives each app its own sessionmaker settings and engine again.

Tests whose data must really be committed (another process or thread reads it: gunicorn, RQ workers,
live streams, fault relays) are marked `@pytest.mark.real_commits`; tests/conftest.py then leaves the
apps unbound and deletes every row afterwards, as every test did before.
"""
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

# Sequences are not transactional in PostgreSQL: restart them so ids start at 1 in every test, as they
# did when each test ended with TRUNCATE ... RESTART IDENTITY (one round trip for all of them).
RESTART_SEQUENCES = text("SELECT count(setval(c.oid, 1, false)) FROM pg_class c "
                         "JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE c.relkind = 'S' AND n.nspname = current_schema()")


class _Passthrough:
    """Forwards every attribute to `inner` except those given as keyword arguments."""

    def __init__(self, inner, **overrides):
        self.__dict__.update(overrides, _inner=inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _NoAutocommit(_Passthrough):
    """The driver connection with its autocommit switch disconnected (reads False, writes are ignored)."""

    def __setattr__(self, name, value):
        if name != "autocommit":
            setattr(self._inner, name, value)


class SharedConnection(_Passthrough):
    """The test's connection as ring time sees it. Ring time (app/db.py `ring_connection`) switches the
    driver to autocommit on PostgreSQL; inside the test's transaction the switch is ignored and the ring
    statement runs in the enclosing SAVEPOINT instead, with the same result."""

    def __init__(self, connection: Connection):
        fairy = connection.connection
        driver = _NoAutocommit(fairy.driver_connection, autocommit=False)
        super().__init__(connection, connection=_Passthrough(fairy, driver_connection=driver))


class SavepointEngine:
    """Stands in for an app's engine during a test: `connect()` and `begin()` are SAVEPOINTs on the test's
    connection (released on success, rolled back on error); everything else is the real engine's."""

    def __init__(self, engine: Engine, connection: Connection):
        self._engine, self._connection = engine, connection

    def __getattr__(self, name):
        return getattr(self._engine, name)

    @contextmanager
    def connect(self):
        with self._connection.begin_nested():
            yield SharedConnection(self._connection)

    begin = connect

    def dispose(self) -> None:
        """The real engine never opened a connection during the test: nothing to dispose."""


class TestTransaction:
    """One connection and one outer transaction for one test, shared by every app the test binds."""

    __test__ = False  # not a test class for pytest

    def __init__(self, engine: Engine, url: str):
        self.engine, self.url = engine, url
        self.connection: Connection | None = None
        self._bound: list[tuple] = []

    def _open(self) -> Connection:
        if self.connection is None:
            conn = self.engine.connect()
            if conn.dialect.name == "sqlite":  # pysqlite would COMMIT on its own: it must not
                conn.connection.driver_connection.isolation_level = None
                conn.begin()
                conn.exec_driver_sql("BEGIN")
            else:
                conn.begin()
                conn.execute(RESTART_SEQUENCES)
            self.connection = conn
        return self.connection

    def bind(self, app) -> None:
        """Run `app`'s database work inside this test's transaction (once per app)."""
        if app.config.get("DATABASE_URL") != self.url or any(a is app for a, _, _ in self._bound):
            return
        conn, maker, engine = self._open(), app.extensions["sessionmaker"], app.extensions["engine"]
        self._bound.append((app, dict(maker.kw), engine))
        maker.configure(bind=conn, join_transaction_mode="create_savepoint")
        app.extensions["engine"] = SavepointEngine(engine, conn)

    def close(self) -> None:
        for app, kw, engine in reversed(self._bound):
            app.extensions["sessionmaker"].kw = kw
            app.extensions["engine"] = engine
        self._bound.clear()
        conn, self.connection = self.connection, None
        if conn is None:
            return
        try:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("ROLLBACK")
                conn.rollback()
                conn.connection.driver_connection.isolation_level = ""
            else:
                conn.rollback()
        finally:
            conn.close()
