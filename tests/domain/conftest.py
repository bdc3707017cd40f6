"""Domain tests: the acts run against a FakeUnitOfWork and the simulated platform, without Flask
and without a database server (an in-memory SQLite schema built from the models)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from call_flows import settings as org_settings
from call_flows.jobs.handover import HandOver
from call_flows.models import Base, Call, Team, User
from call_flows.platform.simulated import SimulatedPlatform
from call_flows.unit_of_work import FakeUnitOfWork, session_factory

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


class Bus:
    """The live-event bus of the jobs' feedback (`warning_played`, `team_lead_alert`, ...)."""

    def __init__(self):
        self.events: list[dict] = []

    def publish(self, event: dict) -> None:
        self.events.append(event)


class Mailer:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, key: str, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject))


@pytest.fixture
def world():
    """A team (a line manager and a handler with phones), a call the handler has taken, and a
    unit of work whose jobs run in-process against the simulated platform."""
    org_settings.invalidate()
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    make_session = session_factory(sessionmaker(engine, expire_on_commit=False, info={"config": {}}))
    bus, mailer = Bus(), Mailer()
    handover = HandOver(make_session, None, SimulatedPlatform(), mailer, bus)
    session = make_session()
    team = Team(name="Passports North")
    session.add(team)
    session.flush()
    manager = User(username="manager", role="line_manager", team_id=team.id, phone="+447700900001")
    session.add(manager)
    session.flush()
    handler = User(username="handler", role="call_handler", team_id=team.id, manager_id=manager.id,
                   phone="+447700900002")
    session.add(handler)
    session.flush()
    call = Call(call_sid="CA" + "1" * 32, caller="+447700900123", caller_kind="number", caller_raw="+447700900123",
                status="ringing", started_at=NOW)
    session.add(call)
    session.commit()
    uow = FakeUnitOfWork(session, handover)
    yield {"uow": uow, "session": session, "handler": handler, "manager": manager, "call": call, "bus": bus,
           "mailer": mailer}
    session.close()
    engine.dispose()
    org_settings.invalidate()
