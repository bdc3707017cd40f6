"""The contract's command line: users add / set-password, demo setup, the simulated platform."""
import socket

from sqlalchemy import select

from app.db import db_session
from app.pages.live import stream_events
from call_flows.staff.live_scope import reader_for
from call_flows.models import Call, User
from tests.browser.conftest import LiveServer
from tests.conftest import make_app


def test_users_add_prints_the_token_last_and_stores_only_its_hash(app, runner, client):
    assert runner.invoke(args=["users", "add", "boss", "--role", "line_manager", "--team", "North"]).exit_code == 0
    result = runner.invoke(args=["users", "add", "amy", "--role", "call_handler", "--manager", "boss",
                                 "--phone", "07700 900002"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with app.app_context():
        amy = db_session().scalar(select(User).where(User.username == "amy"))
        assert amy.token_hash != token and amy.phone == "+447700900002" and amy.team_id is not None
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_users_add_refuses_bad_roles_and_duplicates(runner):
    assert runner.invoke(args=["users", "add", "x", "--role", "king"]).exit_code != 0
    assert runner.invoke(args=["users", "add", "x", "--role", "admin"]).exit_code == 0
    assert runner.invoke(args=["users", "add", "x", "--role", "admin"]).exit_code != 0


def test_set_password_reads_stdin_and_the_login_form_accepts_it(app, runner, client):
    runner.invoke(args=["users", "add", "amy", "--role", "call_handler"])
    assert runner.invoke(args=["users", "set-password", "amy"], input="short\n").exit_code != 0
    assert runner.invoke(args=["users", "set-password", "amy"], input="a long enough secret\n").exit_code == 0
    assert client.post("/login", data={"username": "amy", "password": "wrong"}).status_code == 401
    response = client.post("/login", data={"username": "amy", "password": "a long enough secret"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/console")


def test_demo_setup_is_repeatable(runner):
    first = runner.invoke(args=["demo", "setup"])
    assert first.exit_code == 0 and "token" in first.output
    second = runner.invoke(args=["demo", "setup"])
    assert second.exit_code == 0 and "already exist" in second.output


def test_sim_call_reaches_the_running_service_so_its_open_pages_update_at_once(app, database_url, real_commits):
    """`sim call` posts a signed webhook to the running service (here its own app object, serving
    over HTTP); the CLI's app is a different one, so the board's stream sees the call only because
    the service itself received it."""
    server = LiveServer(app)
    board = stream_events(app, reader_for(1, "supervisor", None), lifetime=0.5)
    cli_app = make_app(database_url)
    try:
        runner = cli_app.test_cli_runner()
        result = runner.invoke(args=["sim", "call", "07700 900123", "--url", server.url])
        assert result.exit_code == 0 and "<Conference" in result.output, result.output
        sid = result.output.split()[1]
        with app.app_context():
            assert db_session().scalar(select(Call.caller).where(Call.call_sid == sid)) == "+447700900123"
        assert any(f'"call_sid": "{sid}"' in chunk and "call_ringing" in chunk for chunk in board)
        status = runner.invoke(args=["sim", "status", sid, "completed", "--duration", "12", "--url", server.url])
        assert status.output.strip().endswith("204")
    finally:
        server.stop()
        cli_app.extensions["engine"].dispose()


def test_sim_call_says_clearly_when_the_service_is_not_running(runner, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("PORT", str(port))
    result = runner.invoke(args=["sim", "call", "07700 900123"])
    assert result.exit_code == 1
    assert f"callguard is not running at http://127.0.0.1:{port}" in result.output and "--url" in result.output
