"""Pressing acts on the production shape and reading back what became of them, for the fault
suite's modules (tests/faults/shape.py runs the processes). COUNTS adds up, over the modules that
use it, what the issue's closing note asks for: faults injected, acts pressed, acts stored, side
effects expected and seen (duplicates and losses both 0)."""
import time

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app.simulator import new_call_sid
from call_flows.models import Call
from tests.conftest import PG_URL, Staff, make_app
from tests import twiml
from tests.faults.shape import ACCOUNT, Shape, fresh_database
from tests.per_worker import scratch_db

# Twilio waits 15 s for a webhook's answer before the caller hears an application error (error 11205);
# R1 needs ring time answered well inside that whatever the fault, which callguard's own timeouts (database
# connect 2 s, Redis 2 s, app/db.py and app/jobs.py) guarantee. A bound on waiting, not a speed target:
# speed is measured in bench/ (the same run under load once took over 2 s for a fresh process's ring).
ANSWER_BUDGET_S = 7.5

COUNTS = {"faults_injected": 0, "acts_pressed": 0, "acts_stored": 0, "effects_expected": 0, "effects_seen": 0}
TERMINATE = {"reason": "abuse", "immediate_reason": "threat_of_violence"}
MANAGER_PHONE = "+447700900999"


def started_shape(tmp_path_factory, name: str, server_url: str = PG_URL):
    """A module's production shape on a fresh database `<test database>_faults_<name>` (on the server of `server_url`),
    with a handler and their line manager (who has a phone, to dial callbacks); yields the Shape
    (stopped afterwards)."""
    url = fresh_database(server_url, scratch_db(PG_URL, f"faults_{name}"))
    app = make_app(url)
    staff = Staff(app)
    manager = staff.add("manager", "line_manager", team="T", phone=MANAGER_PHONE)
    handler = staff.add("handler", "call_handler", manager="manager", team="T")
    app.extensions["engine"].dispose()
    running = Shape(url, tmp_path_factory.mktemp(name))
    running.headers, running.manager = handler["headers"], manager["headers"]
    running.engine = create_engine(url, pool_pre_ping=True)  # the test's reads survive a server restart
    try:
        yield running
    finally:
        running.stop()
        running.engine.dispose()


def one(shape, query):
    with Session(shape.engine) as session:
        return session.scalar(query)


def ring(shape, accept: bool = True) -> str:
    """A call rings (and a handler takes it); ring time answers TwiML inside Twilio's wait (R1)."""
    sid = new_call_sid()
    started = time.monotonic()
    response = shape.signed_post("/twilio/voice/inbound", {"CallSid": sid, "From": "+447700900123",
                                                           "To": "+441632960000", "CallStatus": "ringing",
                                                           "AccountSid": ACCOUNT})
    assert response.status_code == 200 and twiml.parse(response.text) is not None
    assert time.monotonic() - started < ANSWER_BUDGET_S
    if accept:
        assert shape.api("POST", f"/calls/{sid}/accept", shape.headers).status_code == 200
    return sid


def act(shape, sid, kind: str, within: float | None = None) -> dict:
    """Press a warning (T1) or an immediate termination (T3); it answers 201 (within `within` s)."""
    path, body = {"warning": ("warnings", {"reason": "abuse"}), "termination": ("termination", TERMINATE)}[kind]
    started = time.monotonic()
    response = shape.api("POST", f"/calls/{sid}/{path}", shape.headers, json=body)
    COUNTS["acts_pressed"] += 1
    assert response.status_code == 201, response.text
    if within is not None:
        assert time.monotonic() - started < within
    return response.json()


def status(shape, model, sid):
    return one(shape, select(model.platform_status).join(Call, Call.id == model.call_id).where(Call.call_sid == sid))


def count(shape, model, sid):
    return one(shape, select(func.count(model.id)).join(Call, Call.id == model.call_id).where(Call.call_sid == sid))


def stored(shape, model, sid) -> int:
    """Count the act(s) of `model` stored for `sid` as stored acts; returns how many."""
    n = count(shape, model, sid)
    COUNTS["acts_stored"] += n
    return n


def seen(shape, sid, expected: int) -> list[dict]:
    """The redirects of `sid` that landed (what the caller heard), counted against `expected`."""
    landed = shape.standin.landed(sid)
    COUNTS["effects_expected"] += expected
    COUNTS["effects_seen"] += len(landed)
    return landed


def report(module: str) -> None:
    """The counts so far; no duplicate, no loss, every act pressed stored."""
    print(f"{module}-counts", COUNTS)
    assert COUNTS["effects_seen"] == COUNTS["effects_expected"]
    assert COUNTS["acts_stored"] == COUNTS["acts_pressed"]


@pytest.fixture(scope="module")
def shape(tmp_path_factory, request):
    yield from started_shape(tmp_path_factory, request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_"))
