"""A local HTTP stand-in for Twilio's REST API (Api domain) for benchmarks: answers like Twilio
(201/200 JSON resources) and records when each request arrives (`time.perf_counter()` of this
process), so a benchmark in the same process measures press-to-platform time. It can hold chosen
requests without answering, as a hung Twilio request would."""
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CALL_UPDATE = re.compile(r"/Calls/(CA[0-9a-f]{32})\.json$")


class StandIn:
    def __init__(self):
        self.arrivals: dict[str, list[float]] = {}  # CallSid -> arrival times of its updates (redirects)
        self.other = 0  # participants and new calls
        self.hang: set[str] = set()  # CallSids whose first update is held (a hung request)
        self.released = threading.Event()
        self._cond = threading.Condition()
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

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com

            def do_POST(self):  # noqa: N802 (http.server's naming)
                hang = standin._record(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if hang:
                    standin.released.wait(120)
                    return
                sid = CALL_UPDATE.search(self.path)
                new = "CA" + secrets.token_hex(16)
                body = json.dumps({"sid": sid.group(1) if sid else new, "call_sid": new, "status": "queued",
                                   "account_sid": "AC" + "0" * 32}).encode()
                self.send_response(200 if sid else 201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler
