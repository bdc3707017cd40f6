"""A local stand-in for Twilio's REST API at the HTTP-client seam (twilio-python's own tests do the
same with their holodeck): the real `twilio` library builds and sends each request; this records
it and answers like Twilio would, without any network."""
import json
import logging
import secrets
import threading
from urllib.parse import parse_qs

from twilio.http import HttpClient
from twilio.http.response import Response


class RecordingHttpClient(HttpClient):
    def __init__(self):
        super().__init__(logging.getLogger("tests.twilio_standin"), is_async=False)
        self.requests: list[dict] = []
        self.fail_next = 0
        self.hung_up: set[str] = set()  # calls whose TwiML reached <Hangup/>: no longer in progress
        self._lock = threading.Lock()

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        with self._lock:
            self.requests.append({"method": method, "url": url, "params": params or {}, "data": dict(data or {}),
                                  "auth": auth})
            if self.fail_next:
                self.fail_next -= 1
                return Response(503, json.dumps({"code": 20500, "message": "stand-in outage", "status": 503}))
            call = url.rsplit("/Calls/", 1)[-1].removesuffix(".json") if "/Calls/CA" in url else None
            if method == "POST" and call:
                if call in self.hung_up:  # Twilio: a completed call cannot be redirected (error 21220)
                    return Response(400, json.dumps({"code": 21220, "status": 400,
                                                     "message": "Call is not in-progress. Cannot redirect."}))
                if "<Hangup" in str((data or {}).get("Twiml", "")):
                    self.hung_up.add(call)
        sid = "CA" + secrets.token_hex(16)
        body = {"sid": sid, "call_sid": sid, "account_sid": "AC" + "0" * 32, "status": "queued"}
        return Response(201 if method == "POST" and url.endswith("s.json") else 200, json.dumps(body))

    def posts_to(self, suffix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["url"].endswith(suffix)]


def form(request: dict) -> dict:
    """The form fields of a recorded request, as Twilio would receive them."""
    data = request["data"]
    return {k: v for k, v in data.items()} if isinstance(data, dict) else parse_qs(data)
