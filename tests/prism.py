"""Stoplight Prism serving Twilio's OpenAPI document, started once per test session (the `prism_url`
fixture, registered in tests/conftest.py). Prism missing is a failure, never a skip (in CI and locally):
run `bash scripts/setup.sh`."""
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "third_party" / "twilio-oai" / "twilio_api_v2010.json"
PRISM = ROOT / "node_modules" / ".bin" / "prism"
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory):
    """Prism mocking Twilio's Api domain on a free local port, for the whole session."""
    if not PRISM.exists():
        hint = ("npm is not installed: install Node.js 18+ and npm, then run `bash scripts/setup.sh`"
                if shutil.which("npm") is None else "run `bash scripts/setup.sh` (it runs `npm ci`)")
        pytest.fail(f"Stoplight Prism is missing ({PRISM.relative_to(ROOT)}); {hint}. "
                    "This test checks the service's Twilio requests against Twilio's OpenAPI spec and "
                    "never skips.", pytrace=False)
    assert SPEC.exists(), f"{SPEC} is missing"
    port = _free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([str(PRISM), "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"Prism did not start on 127.0.0.1:{port} (exit {proc.poll()}):\n"
                            + log_path.read_text(errors="replace")[-3000:], pytrace=False)
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
