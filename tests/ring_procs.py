"""Web processes for ring-time tests with more than one process (issue 13 item 2): gunicorn serving
`wsgi:app` with one sync worker (one process serving rings), the snapshot on, started and stopped by
the test, every webhook signed with RequestValidator as Twilio signs it."""
import os
import signal
import subprocess
import uuid
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from tests.faults.shape import BIN, ROOT, free_port, wait_until

TOKEN = "ring-procs-token"


class Web:
    """`redis_url` None: no Redis (ring time writes to the database); `extra`: more environment."""

    def __init__(self, database_url: str, tmp, name: str, retry_s: float = 1.0, redis_url: str | None = None,
                 extra: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": self.base,
               "SECRET_KEY": "r" * 40, "CALLGUARD_RING_SNAPSHOT": "1", "CALLGUARD_RING_LISTENER_RETRY_S": str(retry_s),
               "PYTHONPATH": str(ROOT), **(extra or {})}
        for key in ("CI", "REDIS_URL", "TWILIO_ACCOUNT_SID", "CALLGUARD_ENV"):
            env.pop(key, None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.log = open(tmp / f"{name}.log", "ab")
        self.proc = subprocess.Popen([str(BIN / "gunicorn"), "-k", "sync", "-w", "1", "-b", f"127.0.0.1:{self.port}",
                                      "wsgi:app"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until(lambda: requests.get(self.base + "/healthz", timeout=1).ok, 60, f"{name} to start")

    def post(self, path: str, params: dict) -> requests.Response:
        url = self.base + path
        return requests.post(url, data=urlencode(params), timeout=15, headers={
            "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params),
            "Content-Type": "application/x-www-form-urlencoded"})

    def ring(self, caller: str) -> str:
        sid = "CA" + uuid.uuid4().hex
        answer = self.post("/twilio/voice/inbound", {"CallSid": sid, "From": caller, "To": "+441632960000",
                                                     "CallStatus": "ringing", "Direction": "inbound"})
        assert answer.status_code == 200 and b"<Response>" in answer.content
        return sid

    def status(self, sid: str, caller: str, call_status: str) -> int:
        """Twilio's status callback for the inbound call `sid`; the HTTP status it was answered with."""
        return self.post("/twilio/voice/status", {"CallSid": sid, "From": caller, "To": "+441632960000",
                                                  "CallStatus": call_status, "Direction": "inbound",
                                                  "SequenceNumber": str(uuid.uuid4().int % 1000)}).status_code

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=20)
        self.log.close()
