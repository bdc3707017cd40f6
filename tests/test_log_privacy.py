"""R9: caller numbers are masked in access logs (gunicorn, werkzeug) and the app's own log lines."""
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from structlog.stdlib import ProcessorFormatter
from werkzeug.serving import make_server

from call_flows import logs
from call_flows.log_masking import mask_request_line, mask_url
from call_flows.phone import mask

ROOT = Path(__file__).resolve().parent.parent
E164 = "+447700900123"
MASKED = mask(E164)


class Lines(logging.Handler):
    """Collects lines formatted as the root handler of create_app formats them (JSON), logger name first."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logs.formatter(json=True, region="GB"))

    def emit(self, record):
        self.lines.append(f"{record.name} {self.format(record)}")


def test_r9_every_root_handler_masks_numbers_once_the_app_exists(app):
    """Every handler the service puts on the root logger (pytest's own capture handlers aside) formats
    through the structlog processors, masking included."""
    handlers = [h for h in logging.getLogger().handlers if not type(h).__module__.startswith("_pytest")]
    assert handlers and all(isinstance(h.formatter, ProcessorFormatter)
                            and any(isinstance(p, logs.MaskNumbers) for p in h.formatter.processors)
                            for h in handlers)


def test_r9_phone_numbers_in_urls_are_masked_in_any_format():
    assert mask_url("/api/v1/callers/07700%20900123") == f"/api/v1/callers/{MASKED}"
    assert mask_url("/api/v1/callers/%2B447700900123") == f"/api/v1/callers/{MASKED}"
    assert mask_url("/api/v1/calls?phone=0044+7700+900123&page=2") == f"/api/v1/calls?phone={MASKED}&page=2"
    assert mask_url("/api/v1/callers/+33%201%2023%2045%2067%2089") == f"/api/v1/callers/{mask('+33123456789')}"
    # numbers the service refuses (extensions, pause digits) are still numbers: masked all the same
    for refused in ("07700%20900123%20ext.%2012", "07700900123%23123", "07700900123,456", "tel:07700900123;ext=9"):
        assert "900123" not in mask_url(f"/api/v1/callers/{refused}")
    # not numbers: ids, CallSids, words and short digit runs stay as they are
    kept = "/api/v1/calls/CA0123456789abcdef0123456789abcdef/warnings?page=12&since=2026-11-01"
    assert mask_url(kept) == kept
    assert mask_request_line("GET /api/v1/callers/07700 900123 HTTP/1.1") == f"GET /api/v1/callers/{MASKED} HTTP/1.1"


def test_r9_app_log_lines_and_tracebacks_show_numbers_masked():
    lines = Lines()
    log = logging.getLogger("callguard.test_log_privacy")
    log.addHandler(lines)
    log.propagate = False
    try:
        log.warning("event=ring caller=%s outcome=%s", E164, "connected")
        try:
            raise ValueError(f"[parameters: ('{E164}', 'number')]")
        except ValueError:
            log.exception("insert failed for %s", "CA" + "1" * 32)
    finally:
        log.removeHandler(lines)
        log.propagate = True
    text = "\n".join(lines.lines)
    assert E164 not in text and "900123" not in text
    assert f"caller={MASKED} outcome=connected" in text and f"('{MASKED}', 'number')" in text
    assert "CA" + "1" * 32 in text  # a CallSid is not a number


def _get(base: str, *paths: str) -> None:
    """GET each path without credentials: refused (401) or not routed (404), and logged either way."""
    for path in paths:
        try:
            urllib.request.urlopen(base + path, timeout=10)
        except urllib.error.HTTPError as exc:
            assert 400 <= exc.code < 500


def test_r9_werkzeug_access_lines_show_numbers_masked(app, real_commits):  # a server thread
    """The development server's own access line, through a real request."""
    lines = Lines()
    logging.getLogger().addHandler(lines)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _get(f"http://127.0.0.1:{server.port}", "/api/v1/callers/07700%20900123", "/api/v1/calls?phone=%2B447700900123")
    finally:
        server.shutdown()
        thread.join()
        logging.getLogger().removeHandler(lines)
    access = [line for line in lines.lines if line.startswith("werkzeug") and "/api/v1/" in line]
    assert len(access) == 2
    assert all(MASKED in line and "900123" not in line for line in access), access


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_r9_gunicorn_access_log_shows_numbers_masked(tmp_path):
    """gunicorn started as in the README picks up gunicorn.conf.py and masks the numbers it logs."""
    port, access = _free_port(), tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "REDIS_URL": "",
           "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--access-logfile", str(access), "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the server to answer (a condition, not a fixed sleep)
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        _get(f"http://127.0.0.1:{port}", "/api/v1/callers/07700%20900123", "/api/v1/calls?phone=0044+7700+900123",
             "/api/v1/callers/%2B447700900123")
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [line for line in access.read_text(encoding="utf-8").splitlines() if "/api/v1/" in line]
    assert len(lines) == 3, lines
    assert all(MASKED in line and "900123" not in line for line in lines), lines
