"""A local HTTP stand-in for Twilio's REST API (Api domain) for benchmarks and the fault suite
(tests/faults): answers like Twilio (201/200 JSON resources) and records when each request arrives
(`time.perf_counter()` of this process), so a benchmark in the same process measures
press-to-platform time. It can hold chosen requests without answering, as a hung Twilio request would.

For the fault suite it behaves like Twilio rather than only recording (`state`, `log`):
- each call's state: `in-progress` once seen, `completed` once the TwiML it was sent reaches
  `<Hangup/>` or `hang_up(sid)`; GET /Calls/{sid}.json answers it with `date_updated` (RFC 2822,
  to the second: when a redirect last landed or the state last changed; null before), as Twilio's
  Call resource does; a POST to a completed call is 400, code 21220 (Twilio: "Call is not
  in-progress. Cannot redirect.");
- on `<Hangup/>` it sends the signed status callback (`completed`, RequestValidator's signature, an
  `I-Twilio-Idempotency-Token`) to `status_url` when set, as Twilio does;
- `fail_next(kind, times)`: the next requests answer 500/503, 429 with `Retry-After`, stall
  (the act lands, the answer comes `value` s later, default 10 s) or drop the connection without an answer."""
import json
from email.utils import formatdate
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import requests
from twilio.request_validator import RequestValidator

ERRORS = {500: 20500, 503: 20503, 429: 20429}

CALL_UPDATE = re.compile(r"/Calls/(CA[0-9a-f]{32})\.json$")
JOIN = re.compile(r"/Conferences/cg-(CA[0-9a-f]{32})/Participants\.json$")  # a handler rung into a caller's conference


class StandIn:
    def __init__(self):
        self.arrivals: dict[str, list[float]] = {}  # CallSid -> arrival times of its updates (redirects)
        self.other = 0  # participants and new calls
        self.joined: dict[str, list[float]] = {}  # CallSid -> arrival times of participants added to its conference
        self.hang: set[str] = set()  # CallSids whose first update is held (a hung request)
        self.released = threading.Event()
        self._cond = threading.Condition()
        self.state: dict[str, str] = {}  # CallSid -> in-progress | completed
        self.updated: dict[str, float] = {}  # CallSid -> when a redirect landed or its state changed (epoch s)
        self.log: list[dict] = []  # every request: method, path, form, answered status ("drop" if none)
        self.faults: list[tuple] = []  # (kind, value): ("status", 503) / ("status", 429) / ("stall", s) / ("drop", 0)
        self.retry_after = 2
        self.status_url: str | None = None  # where status callbacks go (the service's /twilio/voice/status)
        self.auth_token = ""
        self.callbacks: list[dict] = []  # every status callback delivery: sid, sent (perf_counter), ms, status
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _record(self, path: str) -> bool:
        """Record an arrival; True when this request must hang."""
        at = time.perf_counter()
        match = CALL_UPDATE.search(path)
        with self._cond:
            if match:
                seen = self.arrivals.setdefault(match.group(1), [])
                seen.append(at)
                hang = match.group(1) in self.hang and len(seen) == 1
            else:
                self.other += 1
                hang = False
                joined = JOIN.search(path)
                if joined:
                    self.joined.setdefault(joined.group(1), []).append(at)
            self._cond.notify_all()
        return hang

    def wait_update(self, call_sid: str, count: int, timeout: float) -> float | None:
        """The arrival time of the `count`-th update of `call_sid`, waiting up to `timeout` s."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.arrivals.get(call_sid, [])) >= count, timeout)
            seen = self.arrivals.get(call_sid, [])
            return seen[count - 1] if len(seen) >= count else None

    def wait_other(self, count: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.other >= count, timeout)

    def fail_next(self, kind: str, times: int = 1, value: float = 0) -> None:
        """`kind`: "500", "503", "429" (with Retry-After: `retry_after`), "stall" (`value` s, then
        answer as usual) or "drop" (close the connection without answering)."""
        with self._cond:
            for _ in range(times):
                self.faults.append(("status", int(kind)) if kind.isdigit() else (kind, value))

    def hang_up(self, call_sid: str) -> None:
        """The caller hangs up: the call is `completed` (its status callback is sent)."""
        self._end(call_sid)

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until `predicate(self)` holds (checked on every request)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def landed(self, call_sid: str) -> list[dict]:
        """Redirects of `call_sid` that Twilio accepted (200): what the caller really heard."""
        with self._cond:
            return [r for r in self.log if r["method"] == "POST" and r["sid"] == call_sid and r["status"] == 200]

    def _end(self, call_sid: str) -> None:
        with self._cond:
            was = self.state.get(call_sid)
            self.state[call_sid] = "completed"
            self.updated[call_sid] = time.time()
            self._cond.notify_all()
        if was != "completed" and self.status_url:
            threading.Thread(target=self._status_callback, args=(call_sid,), daemon=True).start()

    def _status_callback(self, call_sid: str) -> None:
        form = {"CallSid": call_sid, "CallStatus": "completed", "CallDuration": "30", "SequenceNumber": "3",
                "AccountSid": "AC" + "0" * 32}
        headers = {"X-Twilio-Signature": RequestValidator(self.auth_token).compute_signature(self.status_url, form),
                   "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        for _ in range(5):  # Twilio retries a failed callback delivery a few times
            sent, status = time.perf_counter(), None
            try:
                status = requests.post(self.status_url, data=form, headers=headers, timeout=5).status_code
            except requests.RequestException:
                pass
            with self._cond:
                self.callbacks.append({"sid": call_sid, "sent": sent, "status": status,
                                       "ms": (time.perf_counter() - sent) * 1000})
            if status is not None and status < 500:
                return
            time.sleep(0.5)

    def _twilio_answer(self, method: str, path: str, form: dict) -> tuple[int, dict, dict]:
        """(status, JSON body, headers) as Twilio answers; records the request; applies faults."""
        match = CALL_UPDATE.search(path)
        sid = match.group(1) if match else None
        record = {"method": method, "path": path, "sid": sid, "form": form, "status": None}
        with self._cond:
            self.log.append(record)
            fault = self.faults.pop(0) if self.faults else None
            state = self.state.setdefault(sid, "in-progress") if sid else None
            self._cond.notify_all()
        if fault and fault[0] == "stall":  # Twilio takes the request; its answer comes late
            answer = self._act(record, sid, state, method, form)
            time.sleep(fault[1] or 10)
            return answer
        if fault and fault[0] in ("status", "drop"):
            record["status"] = fault[1] if fault[0] == "status" else "drop"
            code = fault[1] if fault[0] == "status" else 0
            return code, {"code": ERRORS.get(code, 20500), "message": "stand-in fault", "status": code}, (
                {"Retry-After": str(self.retry_after)} if code == 429 else {})
        return self._act(record, sid, state, method, form)

    def _act(self, record: dict, sid: str | None, state: str | None, method: str, form: dict):
        if sid and method == "GET":
            record["status"] = 200
            return 200, {"sid": sid, "status": state, "account_sid": "AC" + "0" * 32,
                         "date_updated": self._date_updated(sid)}, {}
        if sid and state == "completed":
            record["status"] = 400
            return 400, {"code": 21220, "message": "Call is not in-progress. Cannot redirect.", "status": 400}, {}
        record["status"] = 200 if sid else 201
        if sid:
            with self._cond:
                self.updated[sid] = time.time()
        if sid and "<Hangup" in form.get("Twiml", ""):
            self._end(sid)
        new = "CA" + secrets.token_hex(16)
        return record["status"], {"sid": sid or new, "call_sid": new, "status": "queued",
                                  "account_sid": "AC" + "0" * 32, "date_updated": self._date_updated(sid)}, {}

    def _date_updated(self, sid: str | None) -> str | None:
        """Twilio's `date_updated` of a call (RFC 2822, GMT, to the second), None if never changed."""
        at = self.updated.get(sid) if sid else None
        return formatdate(at, usegmt=True) if at is not None else None

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com
            # http.server sends the headers and the body in two writes; with Nagle's algorithm the body
            # waited for the client's delayed ACK (up to 40 ms here), which held the worker's REST call
            # and so the next job's press-to-platform time. A real HTTP server sends both at once.
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 (http.server's naming)
                hang = standin._record(self.path)
                form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()))
                if hang:
                    standin.released.wait(120)
                    return
                self._answer(*standin._twilio_answer("POST", self.path, form))

            def do_GET(self):  # noqa: N802
                self._answer(*standin._twilio_answer("GET", self.path, {}))

            def _answer(self, status, body, headers):
                if status == 0:  # a dropped connection: no answer at all
                    self.close_connection = True
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting (a stall longer than its timeout)
                    self.close_connection = True

            def log_message(self, *args):
                pass

        return Handler
