"""Browser tests: the service on a real local HTTP server, driven by Playwright in Debian's Chromium.

Screenshots go to test-artifacts/ (kept by CI as the tests' artefacts). `axe_serious(page)` runs
axe-core in the page and returns the serious and critical violations.
"""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from call_flows import settings as org_settings
from tests.conftest import ARTIFACTS, Staff, make_app
from tests.twilio_standin import RecordingHttpClient

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct-horse-battery"


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def stand_in_twilio():
    return RecordingHttpClient()


@pytest.fixture
def live(database_url, stand_in_twilio, real_commits):
    """The service over HTTP with Twilio credentials pointed at the recording stand-in; CSRF on. Its
    server threads commit for real (`real_commits`: every row deleted after the test)."""
    org_settings.invalidate()
    app = make_app(database_url, WTF_CSRF_ENABLED=True, TESTING=False,
                   RING_SNAPSHOT=False,  # a ring right after seeding: the snapshot may lag up to 1 s (issue 13), the query never
                   TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="test-auth-token",
                   TWILIO_HTTP_CLIENT=stand_in_twilio, TWILIO_CALLER_ID="+441632960000")
    server = LiveServer(app)
    app.config["PUBLIC_BASE_URL"] = server.url
    app.extensions["platform"].public_base_url = server.url
    yield server
    server.stop()
    app.extensions["engine"].dispose()
    org_settings.invalidate()


@pytest.fixture
def live_staff(live):
    """Create users with a password for signing in through the browser."""
    from werkzeug.security import generate_password_hash

    from app.db import db_session
    from call_flows.models import User

    class BrowserStaff(Staff):
        def add(self, username, role, **kwargs):
            created = super().add(username, role, **kwargs)
            with self.app.app_context():
                session = db_session()
                session.get(User, created["id"]).password_hash = generate_password_hash(PASSWORD)
                session.commit()
            return created

    return BrowserStaff(live.app)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # 10.10: Chromium reports each Content-Security-Policy violation on the console; none may occur.
    csp_violations = []
    page.on("console", lambda msg: csp_violations.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert csp_violations == [], f"the page broke its Content-Security-Policy: {csp_violations}"


DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def docs_screenshot(page, name: str) -> None:
    """Save the README's picture `name` (e.g. "board.png") under test-artifacts/; copy it over
    docs/img/ only when asked (UPDATE_DOCS_SCREENSHOTS=1), so a test run leaves the clone clean."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"docs-{name}"), full_page=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"docs-{name}", DOCS_IMG / name)


def sign_in(page, live, username, password=PASSWORD):
    page.goto(f"{live.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def axe_serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the current page."""
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
