"""Helpers for the callback-queue and incident tests: a call warned and ended through the real
signed webhooks and API, as in tests/test_call_loop.py."""
import pytest

from app.simulator import new_call_sid, signed_post
from tests.conftest import shared_app


@pytest.fixture
def mail_app(database_url, tmp_path):
    """An app whose mailer writes to a temporary outbox folder (I4 distribution, deadline notices)."""
    for application in shared_app(database_url, "mail"):
        application.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
        application.extensions["mailer"].outbox_dir = tmp_path / "outbox"  # the mail app's one mailer
        yield application


def terminated_call(app, client, handler, from_="+447700900123", case_reference="PP-123", immediate=None):
    """Ring, accept, warn and terminate a call as `handler`; returns the termination JSON."""
    sid = new_call_sid()
    rung = signed_post(app, client, "/twilio/voice/inbound",
                       {"CallSid": sid, "From": from_, "To": "+441632960000", "CallStatus": "ringing"})
    assert rung.status_code == 200
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    if immediate is None:
        warned = client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"],
                             json={"reason": "abuse", "detail": "shouting"})
        assert warned.status_code == 201, warned.get_json()
    body = {"reason": "threats" if immediate else "abuse", "case_reference": case_reference,
            "note": {"spoke_to": "Mr Smith", "query": "passport renewal"}}
    if immediate:
        body["immediate_reason"] = immediate
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json=body)
    assert ended.status_code == 201, ended.get_json()
    return {**ended.get_json(), "call_sid": sid}


def post(client, path, who, body=None):
    return client.post(f"/api/v1{path}", headers=who["headers"], json=body if body is not None else {})


def run_due(app, now):
    """Run the outbox jobs due at `now`, as a worker would when the clock gets there."""
    from call_flows.jobs import attempts, outbox
    from call_flows.unit_of_work import FakeUnitOfWork

    session = app.extensions["sessionmaker"]()
    try:
        for job_id in outbox.due_for_redispatch(session, now, stale_after=__import__("datetime").timedelta(0)):
            attempts.run(FakeUnitOfWork(session), job_id, app.extensions["job_context"], now=now)
    finally:
        session.close()


def tick(app, now):
    """The periodic deadline check at `now`, then the emails it queued, as the worker runs them."""
    from workers.deadlines import check_deadlines

    result = check_deadlines(app.extensions["handover"], now)
    run_due(app, now)
    return result
