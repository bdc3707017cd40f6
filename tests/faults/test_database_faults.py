"""Issue 12 fault 4 on the production shape: PostgreSQL's connections cut (an in-process TCP relay
between the service and the machine's server, tests/faults/relay.py; the server itself is never
restarted). Ring time answers TwiML within 2 s; a staff act answers a clear 503 and stores nothing
half; the service recovers without a restart once the database answers again."""
import time

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.simulator import new_call_sid
from call_flows.models import Call, CaseNote, Incident, OutboxJob, Termination
from tests import twiml
from tests.conftest import PG_URL, Staff, make_app
from tests.faults.relay import Relay
from tests.faults.shape import ACCOUNT, Shape, fresh_database, wait_until

TERMINATE = {"reason": "abuse", "immediate_reason": "threat_of_violence"}


@pytest.fixture(scope="module")
def shape(tmp_path_factory):
    url = fresh_database(PG_URL, "faults_relay")
    app = make_app(url)
    handler = Staff(app).add("handler", "call_handler", team="T")
    app.extensions["engine"].dispose()
    direct = make_url(url)
    relay = Relay(direct.host or "127.0.0.1", direct.port or 5432)
    via_relay = direct.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    running = Shape(via_relay, tmp_path_factory.mktemp("relay"), workers=1)
    running.headers, running.relay, running.engine = handler["headers"], relay, create_engine(url)
    try:
        yield running
    finally:
        running.stop()
        relay.stop()
        running.engine.dispose()


def _ring(shape, sid):
    started = time.monotonic()
    response = shape.signed_post("/twilio/voice/inbound", {"CallSid": sid, "From": "+447700900123",
                                                           "To": "+441632960000", "AccountSid": ACCOUNT})
    assert time.monotonic() - started < 2  # R1: ring time answers within 2 s whatever the database does
    assert response.status_code == 200 and twiml.has(response.text, "Dial")
    return response


def _rows(shape, sid):
    with Session(shape.engine) as session:
        call_id = session.scalar(select(Call.id).where(Call.call_sid == sid))
        return [session.scalar(select(func.count()).select_from(model).where(model.call_id == call_id))
                for model in (Termination, CaseNote, Incident)] + [
            session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.key.like("termination-%")))]


def test_fault4_database_cut_ring_time_answers_a_staff_act_is_a_clear_503_and_nothing_is_half_stored(shape):
    sid = new_call_sid()
    _ring(shape, sid)
    assert shape.api("POST", f"/calls/{sid}/accept", shape.headers).status_code == 200
    before = _rows(shape, sid)
    shape.relay.cut()  # every pooled connection dies; new ones are refused
    _ring(shape, new_call_sid())
    response = shape.api("POST", f"/calls/{sid}/termination", shape.headers, json=TERMINATE)
    assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"]
    assert _rows(shape, sid) == before  # nothing half: no termination, note, incident or job
    shape.relay.restore()
    # recovers without a restart: the pool drops the broken connections and opens new ones
    wait_until(lambda: shape.api("POST", f"/calls/{sid}/termination", shape.headers,
                                 json=TERMINATE).status_code == 201, 10, "recovery")
    wait_until(lambda: shape.standin.landed(sid), 20, "final notice")
    assert _rows(shape, sid)[:3] == [1, 1, 1] and len(shape.standin.landed(sid)) == 1
    later = new_call_sid()
    _ring(shape, later)
    with Session(shape.engine) as session:  # ring time stores calls again
        assert session.scalar(select(Call.status).where(Call.call_sid == later)) == "ringing"
