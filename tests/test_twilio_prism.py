"""The service's Twilio REST requests checked against Twilio's own OpenAPI spec.

Stoplight Prism (pinned in package.json, installed by scripts/setup.sh) serves the vendored
`third_party/twilio-oai/twilio_api_v2010.json` and validates every request against it: a request
Twilio would reject (missing parameter, bad enum, malformed sid, no basic auth) gets 422/401, so the
outbox job that sent it does not finish and this test fails. Prism is stateless and answers fixed
examples, so the assertions are about what the service sent and whether Prism accepted it.

Prism (tests/prism.py) starts once per session; missing, it is a failure, never a skip.
"""
import os

import pytest
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient

from app.db import db_session
from app.simulator import new_call_sid, signed_post
from call_flows import settings as org_settings
from call_flows.models import OutboxJob
from tests import twiml
from tests.conftest import Staff, make_app

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


class RecordingTwilioHttpClient(TwilioHttpClient):
    """The library's real HTTP client (requests), keeping each request and Prism's answer."""

    def __init__(self):
        super().__init__(timeout=10)
        self.exchanges: list[dict] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        response = super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                                   timeout=timeout, allow_redirects=allow_redirects)
        self.exchanges.append({"method": method, "url": url, "data": dict(data or {}),
                               "status": response.status_code, "body": response.text})
        return response

    def posts_to(self, suffix: str) -> list[dict]:
        return [e for e in self.exchanges if e["method"] == "POST" and e["url"].endswith(suffix)]


@pytest.fixture
def prism_app(database_url, prism_url, monkeypatch):
    # TWILIO_EDGE / TWILIO_REGION would rewrite the API host away from Prism.
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    org_settings.invalidate()
    http = RecordingTwilioHttpClient()
    application = make_app(database_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN="prism-auth-token",
                           TWILIO_API_BASE_URL=prism_url, TWILIO_HTTP_CLIENT=http,
                           TWILIO_CALLER_ID="+441632960000", PUBLIC_BASE_URL="https://callguard.example.org")
    application.extensions["twilio_http"] = http
    yield application  # made in the test's transaction (tests/conftest.py make_app): rolled back
    org_settings.invalidate()


def _jobs(app) -> dict[str, OutboxJob]:
    with app.app_context():
        return {job.task.rsplit(".", 1)[-1]: job for job in db_session().scalars(select(OutboxJob).order_by(OutboxJob.id))}


def _explain(http: RecordingTwilioHttpClient) -> str:
    return "\n".join(f"{e['method']} {e['url']} -> {e['status']} {e['body'][:400]}" for e in http.exchanges)


def test_a_whole_call_sends_only_requests_twilio_accepts(prism_app):
    """Ring, accept (participant create), warn and terminate (Calls update with TwiML) against Prism."""
    app, http = prism_app, prism_app.extensions["twilio_http"]
    client = app.test_client()
    staff = Staff(app)
    staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = staff.add("handler", "call_handler", manager="manager", team="Passports North", phone="+447700900002")
    sid = new_call_sid()

    rang = signed_post(app, client, "/twilio/voice/inbound",
                       {"CallSid": sid, "From": "+447700900123", "To": "+441632960000", "CallStatus": "ringing"})
    assert rang.status_code == 200 and twiml.has(rang.data, "Conference")

    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    assert client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"],
                       json={"reason": "abuse"}).status_code == 201
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"], json={"reason": "abuse"})
    assert ended.status_code == 201, ended.get_json()

    # Every request reached Prism, was valid against Twilio's spec, and its job finished.
    assert http.exchanges, "the service sent nothing to Twilio"
    assert all(200 <= e["status"] < 300 for e in http.exchanges), _explain(http)
    jobs = _jobs(app)
    for name in ("connect_handler", "play_warning", "end_call"):
        assert name in jobs, f"no {name} job: {sorted(jobs)}"
        assert jobs[name].status == "done", f"{name}: {jobs[name].status} {jobs[name].last_error}\n{_explain(http)}"
    assert all(job.status == "done" for job in jobs.values()), {
        name: (job.status, job.last_error) for name, job in jobs.items()}

    prefix = f"{app.config['TWILIO_API_BASE_URL']}/2010-04-01/Accounts/{ACCOUNT_SID}"
    participants = http.posts_to("/Participants.json")
    assert [p["url"] for p in participants] == [f"{prefix}/Conferences/cg-{sid}/Participants.json"]
    assert participants[0]["data"]["To"] == "+447700900002"
    assert participants[0]["data"]["From"] == "+441632960000"
    updates = http.posts_to(f"/Calls/{sid}.json")
    assert [u["url"] for u in updates] == [f"{prefix}/Calls/{sid}.json"] * 2
    assert twiml.has(updates[0]["data"]["Twiml"], "Say") and twiml.has(updates[0]["data"]["Twiml"], "Conference")
    assert twiml.has(updates[1]["data"]["Twiml"], "Hangup")


def test_prism_rejects_a_request_twilio_would_reject(prism_app):
    """The check has teeth: through the service's own client, Prism refuses malformed requests."""
    http = prism_app.extensions["twilio_http"]
    client = prism_app.extensions["platform"].client

    # calls.create() without `to`: the library refuses it before sending, so send the same request
    # one layer down, through the same client's Api v2010 version (same base URL, auth and HTTP client).
    with pytest.raises(TypeError):
        client.calls.create(from_="+441632960000", twiml="<Response/>")
    with pytest.raises(TwilioRestException) as missing_to:
        client.api.v2010.create("POST", f"/Accounts/{ACCOUNT_SID}/Calls.json",
                                data={"From": "+441632960000", "Twiml": "<Response/>"})
    assert missing_to.value.status == 422, _explain(http)

    # A call sid of the wrong shape (as if the service sent its conference name) is refused too.
    with pytest.raises(TwilioRestException) as bad_sid:
        client.calls("cg-not-a-call-sid").update(twiml="<Response/>")
    assert bad_sid.value.status == 422, _explain(http)

    # And a well-formed request through the same client is accepted.
    created = client.calls.create(to="+447700900123", from_="+441632960000", twiml="<Response><Hangup/></Response>")
    assert created.sid.startswith("CA")
    assert http.exchanges[-1]["status"] == 201
    assert os.environ.get("TWILIO_EDGE") is None and os.environ.get("TWILIO_REGION") is None
