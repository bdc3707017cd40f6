"""9.9: open live streams never starve ring time. Under the README's gunicorn command scaled down
to 1 worker x 4 threads, a process holds at most 2 streams (the other threads answer Twilio), a
member of staff at most SSE_MAX_STREAMS_PER_USER, and a stream refused beyond a cap is a 503 with
Retry-After. A closed browser tab frees its thread within about a second, not at the next 15 s
keep-alive."""
import http.client
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from app.config import simulated_auth_token
from app.pages import stream_slots
from app.pages.live import HEARTBEAT_S
from app.simulator import new_call_sid
from tests import twiml

ROOT = Path(__file__).resolve().parent.parent
TWILIO_TIMEOUT_S = 15  # Twilio gives up on a webhook after 15 s
SECRET = "gunicorn-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(condition, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(step)
    return condition()


@pytest.fixture
def gunicorn(app, database_url, tmp_path, real_commits):
    """The README's gunicorn command (gthread) at 1 worker x 4 threads, on 127.0.0.1 and a free
    port, on the test database; stopped at the end."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET, "PUBLIC_BASE_URL": base,
           "TWILIO_AUTH_TOKEN": "", "TWILIO_ACCOUNT_SID": "", "REDIS_URL": "", "CALLGUARD_ENV": "development"}
    log = open(tmp_path / "gunicorn.log", "w+")
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--config", "gunicorn.conf.py",
                             "--worker-class", "gthread", "--workers", "1", "--threads", "4",
                             "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        up = _wait_until(lambda: _status(port, "/healthz") == 200 or proc.poll() is not None, 60)
        assert up and proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
        yield port
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def _status(port: int, path: str) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None


def open_stream(port: int, token: str):
    """GET /board/events; returns (connection, response) with only the headers read."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TWILIO_TIMEOUT_S)
    conn.request("GET", "/board/events", headers={"Authorization": f"Bearer {token}"})
    return conn, conn.getresponse()


def ring(port: int) -> http.client.HTTPResponse:
    """A signed inbound webhook, as Twilio sends it, that must be answered within Twilio's timeout."""
    url = f"http://127.0.0.1:{port}/twilio/voice/inbound"
    params = {"CallSid": new_call_sid(), "From": "+447700900123", "To": "+441632960000", "CallStatus": "ringing"}
    token = simulated_auth_token(SECRET)  # the simulated platform's webhook token (app.config)
    signature = RequestValidator(token).compute_signature(url, params)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TWILIO_TIMEOUT_S)
    body = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in params.items())
    conn.request("POST", "/twilio/voice/inbound", body=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    response = conn.getresponse()
    response.text = response.read().decode()
    conn.close()
    return response


def test_r1_ring_time_is_answered_with_four_boards_open_on_one_worker_of_four_threads(gunicorn, staff):
    supervisors = [staff.add(f"supervisor{i}", "supervisor") for i in range(4)]
    opened = [open_stream(gunicorn, s["token"]) for s in supervisors]
    statuses = [response.status for _, response in opened]
    assert statuses.count(200) == stream_slots.max_streams_for_threads(4) == 2
    refused = [response for _, response in opened if response.status == 503]
    assert all(int(r.getheader("Retry-After")) > 0 for r in refused)
    assert all(b'"too_many_streams"' in r.read() for r in refused)
    for _ in range(3):  # the threads left answer Twilio (Twilio would give up after 15 s)
        answer = ring(gunicorn)
        assert answer.status == 200 and twiml.parse(answer.text) is not None
    for conn, _ in opened:
        conn.close()


def test_a_closed_board_frees_its_stream_within_seconds_not_at_the_next_keepalive(gunicorn, staff):
    supervisors = [staff.add(f"supervisor{i}", "supervisor") for i in range(3)]
    first, second = open_stream(gunicorn, supervisors[0]["token"]), open_stream(gunicorn, supervisors[1]["token"])
    assert first[1].status == second[1].status == 200
    waiting = open_stream(gunicorn, supervisors[2]["token"])
    assert waiting[1].status == 503
    first[0].sock.shutdown(socket.SHUT_RDWR)  # the browser tab is closed
    first[0].close()

    def admitted():
        conn, response = open_stream(gunicorn, supervisors[2]["token"])
        if response.status == 200:
            return conn
        conn.close()
        return None

    # The keep-alive comes every 15 s; the gone client must be noticed well before it (5 s).
    conn = _wait_until(admitted, timeout=HEARTBEAT_S / 3, step=0.25)
    assert conn is not None
    conn.close()
    second[0].close()


def test_one_person_holds_at_most_the_per_user_number_of_streams(app, staff):
    """Per user, whatever the process's cap: a third tab of the same supervisor is refused (503,
    Retry-After); another supervisor is still served; closing a tab gives its slot back."""
    app.config.update(SSE_MAX_STREAMS=10, SSE_MAX_STREAMS_PER_USER=2)
    one, other = staff.add("supervisor1", "supervisor"), staff.add("supervisor2", "supervisor")
    client = app.test_client()
    tabs = [client.get("/board/events", headers=one["headers"], buffered=False) for _ in range(3)]
    assert [t.status_code for t in tabs] == [200, 200, 503]
    assert int(tabs[2].headers["Retry-After"]) > 0
    assert tabs[2].get_json()["error"]["code"] == "too_many_streams"
    assert client.get("/board/events", headers=other["headers"], buffered=False).status_code == 200
    tabs[0].close()
    assert client.get("/board/events", headers=one["headers"], buffered=False).status_code == 200
