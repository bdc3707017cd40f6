"""Issue 12 fault 4 on the production shape: PostgreSQL's connections cut (an in-process TCP relay
between the service and the machine's server, tests/faults/relay.py; the server itself is never
restarted), between requests and in the middle of a press's transaction. Ring time answers TwiML
within 2 s; a staff act answers a clear 503 and stores nothing half; the service recovers without a
restart once the database answers again."""
import time

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.simulator import new_call_sid
from call_flows.models import Call, CaseNote, Incident, OutboxJob, Termination
from tests import twiml
from tests.conftest import PG_URL, Staff, make_app
from tests.faults.acts import ANSWER_BUDGET_S, COUNTS
from tests.faults.relay import Relay
from tests.faults.shape import ACCOUNT, Shape, fresh_database, wait_until
from tests.per_worker import scratch_db

TERMINATE = {"reason": "abuse", "immediate_reason": "threat_of_violence"}


@pytest.fixture(scope="module")
def shape(tmp_path_factory):
    url = fresh_database(PG_URL, scratch_db(PG_URL, "faults_relay"))
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
    assert time.monotonic() - started < ANSWER_BUDGET_S  # R1: ring time answers whatever the database does
    assert response.status_code == 200 and twiml.has(response.text, "Dial")
    return response


def _rows(shape, sid):
    with Session(shape.engine) as session:
        call_id = session.scalar(select(Call.id).where(Call.call_sid == sid))
        return [session.scalar(select(func.count()).select_from(model).where(model.call_id == call_id))
                for model in (Termination, CaseNote, Incident)] + [
            session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.key.like("termination-%")))]


def _cut_and_recover(shape, sid):
    """While the relay refuses connections: ring time answers, the press is a clear 503 and stores
    nothing; restored: the same press stores termination, case note, incident once, the notice once."""
    _ring(shape, new_call_sid())
    response = shape.api("POST", f"/calls/{sid}/termination", shape.headers, json=TERMINATE)
    assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"]
    shape.relay.restore()
    wait_until(lambda: shape.api("POST", f"/calls/{sid}/termination", shape.headers,
                                 json=TERMINATE).status_code == 201, 10, "recovery")
    wait_until(lambda: shape.standin.landed(sid), 20, "final notice")
    assert _rows(shape, sid)[:3] == [1, 1, 1] and len(shape.standin.landed(sid)) == 1
    COUNTS["faults_injected"] += 1  # the cut (a refused press is not an act pressed: it answered 503)
    COUNTS["acts_pressed"] += 1
    COUNTS["acts_stored"] += _rows(shape, sid)[0]
    COUNTS["effects_expected"] += 1
    COUNTS["effects_seen"] += len(shape.standin.landed(sid))


def test_fault4_database_cut_inside_the_press_transaction_nothing_half_stored_503_then_recovers(shape):
    sid = new_call_sid()
    _ring(shape, sid)
    assert shape.api("POST", f"/calls/{sid}/accept", shape.headers).status_code == 200
    before, cuts = _rows(shape, sid), shape.relay.cuts
    # the press's transaction has run its SELECTs and flushed its termination, case note and incident
    # when it sends its outbox job's INSERT: the relay cuts every connection there, mid-transaction
    shape.relay.cut_on((b"INSERT INTO outbox_jobs", b"termination-"))
    response = shape.api("POST", f"/calls/{sid}/termination", shape.headers, json=TERMINATE)
    assert shape.relay.cuts == cuts + 1 and shape.relay.down  # the cut happened inside this press
    assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"
    assert _rows(shape, sid) == before  # nothing half: the server rolled the open transaction back
    _cut_and_recover(shape, sid)


def test_fault4_database_cut_ring_time_answers_a_staff_act_is_a_clear_503_and_nothing_is_half_stored(shape):
    sid = new_call_sid()
    _ring(shape, sid)
    assert shape.api("POST", f"/calls/{sid}/accept", shape.headers).status_code == 200
    before = _rows(shape, sid)
    shape.relay.cut()  # every pooled connection dies; new ones are refused
    assert _rows(shape, sid) == before
    _cut_and_recover(shape, sid)
    later = new_call_sid()
    _ring(shape, later)
    def stored() -> str | None:  # ring time stores calls again (its row written behind, issue 13)
        with Session(shape.engine) as session:
            return session.scalar(select(Call.status).where(Call.call_sid == later))
    wait_until(lambda: stored() == "ringing", 10, "the ring's row")
