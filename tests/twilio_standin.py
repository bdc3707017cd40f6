"""A local stand-in for Twilio's REST API at the HTTP-client seam (twilio-python's own tests do the
same with their holodeck): the real `twilio` library builds and sends each request; this records
it and answers like Twilio would, without any network.

Errors are answered as Twilio answers them (docs: "Twilio error and warning dictionary"): an HTTP
status with a JSON body of `code`, `message`, `more_info` and `status`, plus `Retry-After` on a 429.
- `hang_up(sid)`: the call has ended; a POST to it (redirect, TwiML update) is 400, code 21220, and
  its conference (`cg-<sid>`) is gone: 404, code 20404.
- `forget(sid)`: the call is unknown; any request for it or its conference is 404, code 20404.
- `fail_next_with(code, times=1, retry_after=None)`: the next requests answer 20429 (429), 20503
  (503) or any other code in TWILIO_ERRORS, whatever they ask for.
- GET /Calls/{sid}: the call's state, `completed` once it ended, else `in-progress`, and its
  `date_updated` (RFC 2822, the clock's time when a redirect last landed; null before).
- `time_out_next`: the next POSTs raise a read timeout, as `requests` does (a GET still answers).
- `before_request(method, url)` / `after_answer(record)`: hooks to kill the caller (a worker) before
  its request leaves or while it waits for the answer, or to stall; `landed(suffix)`: 2xx POSTs.
- `fail_next` (kept for older tests): the next requests answer a 503 "stand-in outage".
"""
import json
import logging
import re
import secrets
import threading
from email.utils import format_datetime
from urllib.parse import parse_qs

from requests.exceptions import ReadTimeout
from twilio.http import HttpClient
from twilio.http.response import Response

from call_flows.clock import utcnow

TWILIO_ERRORS = {
    21220: (400, "Call is not in-progress. Cannot redirect."),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21201: (400, "No 'To' number is specified"),
}
CALL_PATH = re.compile(r"/(Calls/|Conferences/cg-)(CA[0-9a-f]{32})")  # a call, or its conference


def twilio_error(code: int, path: str, retry_after: int | None = None) -> Response:
    status, message = TWILIO_ERRORS[code]
    body = {"code": code, "message": message.format(path=path), "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(status, json.dumps(body), headers)


class RecordingHttpClient(HttpClient):
    def __init__(self):
        super().__init__(logging.getLogger("tests.twilio_standin"), is_async=False)
        self.requests: list[dict] = []
        self.fail_next = 0
        self.time_out_next = 0
        self.updated: dict[str, str] = {}  # CallSid -> date_updated (RFC 2822) of its last landed redirect
        self.ended: set[str] = set()  # calls that ended, or whose TwiML reached <Hangup/>: not in progress
        self.unknown: set[str] = set()
        self._errors: list[tuple[int, int | None]] = []
        self._lock = threading.Lock()
        self.before_request = None  # fn(method, url), run before the request reaches the stand-in
        self.after_answer = None  # fn(record), run after it answered and before the client reads it

    def hang_up(self, call_sid: str) -> None:
        self.ended.add(call_sid)

    def forget(self, call_sid: str) -> None:
        self.unknown.add(call_sid)

    def fail_next_with(self, code: int, times: int = 1, retry_after: int | None = None) -> None:
        self._errors.extend([(code, retry_after)] * times)

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        if self.before_request is not None:  # e.g. the worker is killed before its request leaves
            self.before_request(method, url)
        record = {"method": method, "url": url, "params": params or {}, "data": dict(data or {}), "auth": auth}
        response = self._answer(record, method, url, data)
        record["status"] = response.status_code  # what Twilio answered: 2xx means the act landed
        if self.after_answer is not None:  # e.g. a stall, or the worker killed while it waits
            self.after_answer(record)
        return response

    def _answer(self, record, method, url, data) -> Response:
        with self._lock:
            self.requests.append(record)
            path = url.split("twilio.com", 1)[-1]
            if self.time_out_next and method == "POST":  # a request that acts times out (a GET answers)
                self.time_out_next -= 1
                raise ReadTimeout("stand-in: read timed out")
            if self.fail_next:
                self.fail_next -= 1
                return Response(503, json.dumps({"code": 20500, "message": "stand-in outage", "status": 503}))
            if self._errors:
                code, retry_after = self._errors.pop(0)
                return twilio_error(code, path, retry_after)
            target = CALL_PATH.search(url)
            if target and target.group(2) in self.unknown:
                return twilio_error(20404, path)
            if target and target.group(1) == "Calls/" and method == "GET":  # fetch: the call's state
                status = "completed" if target.group(2) in self.ended else "in-progress"
                return Response(200, json.dumps({"sid": target.group(2), "status": status,
                                                 "account_sid": "AC" + "0" * 32,
                                                 "date_updated": self.updated.get(target.group(2))}))
            if target and target.group(2) in self.ended:  # a call that ended, and its conference with it
                return twilio_error(21220 if target.group(1) == "Calls/" and method == "POST" else 20404, path)
            hangs_up = "<Hangup" in str((data or {}).get("Twiml", ""))
            if target and target.group(1) == "Calls/" and method == "POST":  # it lands: Twilio's date_updated moves
                self.updated[target.group(2)] = format_datetime(utcnow(), usegmt=True)
            if target and target.group(1) == "Calls/" and method == "POST" and hangs_up:
                self.ended.add(target.group(2))  # after this the call is over, as on Twilio (21220 next time)
        sid = "CA" + secrets.token_hex(16)
        body = {"sid": sid, "call_sid": sid, "account_sid": "AC" + "0" * 32, "status": "queued"}
        return Response(201 if method == "POST" and url.endswith("s.json") else 200, json.dumps(body))

    def landed(self, suffix: str) -> list[dict]:
        """POSTs to `suffix` that Twilio accepted (2xx): what the caller really heard."""
        return [r for r in self.posts_to(suffix) if 200 <= r.get("status", 0) < 300]

    def posts_to(self, suffix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["url"].endswith(suffix)]


def form(request: dict) -> dict:
    """The form fields of a recorded request, as Twilio would receive them."""
    data = request["data"]
    return {k: v for k, v in data.items()} if isinstance(data, dict) else parse_qs(data)
