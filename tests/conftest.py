"""Fixtures: app -> client -> runner (flaskr), a real database, signed webhooks and a Twilio stand-in.

Local runs use SQLite and fakeredis. With CI=true the suite uses the machine's PostgreSQL and Redis
and fails (never skips) if either is missing.

Speed: one app per configuration for the whole session (`shared_app`), each test in one transaction
rolled back afterwards (`_database`, tests/db_isolation.py); a test whose rows another process or thread
must read asks for `real_commits` and its rows are deleted afterwards. Prism starts once per session.
"""
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.cli.db_cmd import upgrade
from app.cli.users_cmd import add_user
from app.db import db_session, make_engine
from app.simulator import new_call_sid, signed_post
from call_flows import settings as org_settings
from tests import per_worker
from tests.db_isolation import TestTransaction
from tests.prism import prism_url  # noqa: F401  (fixture: Prism once per session)
from tests.scheduling import (_timed_priority, pytest_addoption, pytest_collection_modifyitems,  # noqa: F401
                              pytest_configure)  # (xdist)
from tests.twilio_standin import RecordingHttpClient

IN_CI = os.environ.get("CI") == "true"
# Under pytest-xdist each worker has its own database, Redis db and live-event channel (tests/per_worker.py).
PG_URL = per_worker.database_url(os.environ.get("TEST_DATABASE_URL",
                                                "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
REDIS_URL = per_worker.redis_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
EVENTS_CHANNEL = per_worker.events_channel(PG_URL)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TEST_OUTBOX = str(Path(tempfile.gettempdir()) / per_worker.suffix("callguard-test-outbox"))


FROZEN_AT = datetime(2026, 6, 10, 11, 0, tzinfo=timezone.utc)  # a Wednesday, mid-morning in London


@pytest.fixture
def frozen_clock():
    """Time stands still at FROZEN_AT for this test (time-machine), so dates a module writes down (a
    register date 30 days ago, this week's Monday) agree with the clock the service reads."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


def _use_postgres() -> bool:
    return IN_CI or os.environ.get("TEST_DATABASE_URL") is not None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if _use_postgres():
        _create_database_if_missing(PG_URL)
        engine = create_engine(PG_URL)
        try:
            with engine.begin() as conn:  # fails the suite (not a skip) when PostgreSQL is missing
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade(url)
    return url


def _create_database_if_missing(url: str) -> None:
    """An xdist worker's database (`test_gw0`, ...) is created on the server the first time it runs."""
    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}) is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def redis_connection():
    """Real Redis in CI (must answer), fakeredis with Lua locally."""
    if IN_CI or os.environ.get("TEST_REDIS_URL"):
        from redis import Redis

        conn = Redis.from_url(REDIS_URL)
        conn.ping()
        return conn
    import fakeredis

    return fakeredis.FakeRedis()


def _clean(url: str) -> None:
    engine = create_engine(url)
    try:
        names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            else:
                conn.execute(text("PRAGMA foreign_keys=OFF"))
                for name in names:
                    conn.execute(text(f"DELETE FROM {name}"))
    finally:
        engine.dispose()


def make_app(database_url, **overrides):
    """An app on the test database; made during a test, it joins that test's transaction."""
    config = {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "REDIS_URL": None,
              "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "PUBLIC_BASE_URL": None,
              "TESTING": True, "WTF_CSRF_ENABLED": False, "EVENTS_CHANNEL": EVENTS_CHANNEL,
              "MAIL_OUTBOX_DIR": TEST_OUTBOX}  # never instance/outbox: a test run leaves the clone clean
    config.update(overrides)
    application = create_app(config)
    if _TRANSACTION is not None:
        _TRANSACTION.bind(application)
    return application


_TRANSACTION: TestTransaction | None = None  # the running test's, when it may roll back
_SHARED: dict[str, object] = {}  # one app per configuration for the whole session


@pytest.fixture(scope="session")
def _isolation_engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _database(request, database_url, _isolation_engine):
    """Per test: every app on the test database runs in one transaction, rolled back afterwards.
    `@pytest.mark.real_commits` (another process or thread must see the rows): real commits, and every
    row deleted afterwards."""
    global _TRANSACTION
    if "real_commits" in request.fixturenames or request.node.get_closest_marker("real_commits"):
        yield
        _clean(database_url)
        return
    _TRANSACTION = TestTransaction(_isolation_engine, database_url)
    try:
        yield
    finally:
        transaction, _TRANSACTION = _TRANSACTION, None
        transaction.close()


@pytest.fixture
def real_commits():
    """Ask for this (or mark the test `real_commits`) when another process or thread must see the test's
    rows: they are committed for real and deleted after the test."""


def shared_app(database_url, key: str, **overrides):
    """The session's app for this configuration, as fresh as a new one: configuration, extensions,
    settings cache, sign-in throttle and live subscribers are put back after each test."""
    application = _SHARED.get(key)
    if application is None:
        application = _SHARED[key] = make_app(database_url, **overrides)
    elif _TRANSACTION is not None:
        _TRANSACTION.bind(application)
    config, extensions = dict(application.config), dict(application.extensions)
    org_settings.invalidate()
    try:
        yield application
    finally:
        application.config.clear()
        application.config.update(config)
        application.extensions.clear()
        application.extensions.update(extensions)
        application.extensions["login_limiter"].reset()
        getattr(application.extensions["events"], "_subscribers", []).clear()
        org_settings.invalidate()


@pytest.fixture
def app(database_url):
    """The embedded default: simulated platform, jobs in-process."""
    yield from shared_app(database_url, "app")


@pytest.fixture
def configured_app(database_url):
    """Make apps with extra configuration (`configured_app(KEY=value)`), in the test's transaction."""
    return lambda **overrides: make_app(database_url, **overrides)


_TWILIO_HTTP = RecordingHttpClient()


@pytest.fixture
def twilio_http():
    _TWILIO_HTTP.__init__()  # a new stand-in's state: no requests, failures or ended calls
    return _TWILIO_HTTP


@pytest.fixture
def twilio_app(database_url, twilio_http):
    """Twilio credentials set; the REST client talks to the recording stand-in."""
    yield from shared_app(database_url, "twilio", TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                          TWILIO_AUTH_TOKEN="test-auth-token", TWILIO_HTTP_CLIENT=twilio_http,
                          TWILIO_CALLER_ID="+441632960000", PUBLIC_BASE_URL="https://callguard.example.org")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Staff:
    """Creates users and signs requests for them."""

    def __init__(self, app):
        self.app = app

    def add(self, username, role, manager=None, team=None, phone=None):
        with self.app.app_context():
            session = db_session()
            user, token = add_user(session, username, role, manager, team, phone, "GB")
            session.commit()
            return {"id": user.id, "username": username, "token": token,
                    "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
def staff(app):
    return Staff(app)


@pytest.fixture
def team(staff):
    """A line manager with a handler, plus a supervisor, in one team."""
    manager = staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = staff.add("handler", "call_handler", manager="manager", team="Passports North",
                        phone="+447700900002")
    supervisor = staff.add("supervisor", "supervisor", team="Passports North")
    return {"manager": manager, "handler": handler, "supervisor": supervisor}


@pytest.fixture
def ring(app, client):
    """Place a signed inbound call; returns (CallSid, response)."""

    def _ring(from_="+447700900123", call_sid=None, **extra):
        sid = call_sid or new_call_sid()
        params = {"CallSid": sid, "From": from_, "To": "+441632960000", "CallStatus": "ringing", **extra}
        return sid, signed_post(app, client, "/twilio/voice/inbound", params)

    return _ring
