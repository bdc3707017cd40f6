"""The soak's traffic (issue 13 item 7): calls started at a fixed rate (open loop: a slow answer does
not slow the arrivals), each one a handler's call as Twilio and the console drive it, through the proxy:

    ring (signed inbound webhook, RequestValidator as Twilio signs) -> accept (a handler, at random)
    -> status callback `in-progress` (signed) -> Warn (share `warn`) -> Terminate (share `terminate`;
    without a warning first it carries an immediate reason, T3) -> the line manager claims the
    callback task and dials it (share `dial` of the terminations, M1); a call not terminated ends
    with the caller hanging up at the stand-in, which sends the signed `completed` status callback
    (as it does after a final notice's <Hangup/>).

Every request is recorded: kind, start (s since the run began), ms, HTTP status (None: no answer)
and the status expected. Presses keep their `time.perf_counter()`, the clock of the stand-in's
arrivals, for press-to-platform latency."""
import random
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from twilio.request_validator import RequestValidator

from app.simulator import new_call_sid
from tests.faults.shape import ACCOUNT, TOKEN

CALLED = "+441632960000"
WAIT_S = 30.0  # longest wait for a side effect before the call goes on (the check then reports it missing)


@dataclass
class Mix:
    rate: float = 2.0  # calls started per second
    warn: float = 0.4  # share of calls warned
    terminate: float = 0.2  # share of calls terminated
    dial: float = 1.0  # share of terminations whose callback is claimed and dialled
    step_s: float = 1.0  # pause between one call's steps


class Traffic:
    def __init__(self, shape, team: dict, mix: Mix, concurrency: int = 64, seed: int = 13):
        self.shape, self.team, self.mix, self.concurrency, self.seed = shape, team, mix, concurrency, seed
        self.validator = RequestValidator(TOKEN)
        self.records: list[dict] = []
        self.presses: dict[str, list[tuple[str, float]]] = {}  # CallSid -> [(kind, perf_counter at press)]
        self.callers: dict[str, str] = {}  # CallSid -> caller number (E.164)
        self.terminations: dict[str, dict] = {}  # CallSid -> the 201 answer
        self.dialled: dict[str, int] = {}  # caller number -> callback task id dialled (202)
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.local = threading.local()
        self.started = 0.0

    def run(self, seconds: float) -> None:
        """Start calls at `mix.rate` per second for `seconds`, then wait for every call to finish."""
        self.started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            n = 0
            while n / self.mix.rate < seconds:
                time.sleep(max(0.0, self.started + n / self.mix.rate - time.perf_counter()))
                pool.submit(self._call_safely, n)
                n += 1

    def _call_safely(self, n: int) -> None:
        try:
            self._call(n, random.Random(f"{self.seed}-{n}"))
        except Exception:  # noqa: BLE001 (a bug in the generator must fail the run, not vanish in the pool)
            with self.lock:
                self.errors.append(traceback.format_exc())

    def _call(self, n: int, rng: random.Random) -> None:
        sid, caller, step = new_call_sid(), f"+44755{n:07d}", self.mix.step_s
        with self.lock:
            self.callers[sid] = caller
        ring = {"CallSid": sid, "From": caller, "To": CALLED, "CallStatus": "ringing", "AccountSid": ACCOUNT,
                "Direction": "inbound"}
        if not self._signed("ring", "/twilio/voice/inbound", sid, ring, 200):
            return
        time.sleep(step)
        handler = rng.choice(self.team["handlers"])
        if not self._api("accept", f"/calls/{sid}/accept", sid, 200, handler):
            return
        self.shape.standin.wait_for(lambda standin: standin.joined.get(sid), WAIT_S)  # the handler's leg is in
        self._signed("status", "/twilio/voice/status", sid,
                     {**ring, "CallStatus": "in-progress", "SequenceNumber": "1"}, 204)
        warned, terminated, dial = (rng.random() < self.mix.warn, rng.random() < self.mix.terminate,
                                    rng.random() < self.mix.dial)
        time.sleep(step)
        if warned and self._press(sid, "warn", "warnings", {"reason": "abuse"}, handler):
            self.shape.standin.wait_update(sid, 1, WAIT_S)  # the caller hears the warning before anything else
            time.sleep(step)
        body = {"reason": "abuse"} if warned else {"reason": "abuse", "immediate_reason": "threat_of_violence"}
        answer = self._press(sid, "terminate", "termination", body, handler) if terminated else None
        if not terminated:
            self.shape.standin.hang_up(sid)  # the caller hangs up: the stand-in sends `completed`
        if answer is None or not dial:
            return
        with self.lock:
            self.terminations[sid] = answer
        time.sleep(step)
        task = answer["callback_task_id"]
        if self._api("claim", f"/callbacks/{task}/claim", sid, 200, self.team["manager"]) and \
                self._api("dial", f"/callbacks/{task}/dial", sid, 202, self.team["manager"]):
            with self.lock:
                self.dialled[caller] = task

    def _press(self, sid: str, kind: str, path: str, body: dict, headers: dict) -> dict | None:
        """Warn or Terminate; the press time is kept for press-to-platform once it was accepted (201)."""
        response, at = self._send(kind, "POST", f"/api/v1/calls/{sid}/{path}", sid, 201, headers=headers, json=body)
        if response is None:
            return None
        with self.lock:
            self.presses.setdefault(sid, []).append((kind, at))
        return response.json()

    def _api(self, kind: str, path: str, sid: str, expect: int, headers: dict) -> bool:
        return self._send(kind, "POST", "/api/v1" + path, sid, expect, headers=headers)[0] is not None

    def _signed(self, kind: str, path: str, sid: str, form: dict, expect: int) -> bool:
        signature = self.validator.compute_signature(self.shape.base + path, form)
        return self._send(kind, "POST", path, sid, expect, data=form,
                          headers={"X-Twilio-Signature": signature})[0] is not None

    def _send(self, kind: str, method: str, path: str, sid: str, expect: int, **kwargs):
        """One request through the proxy; (the response if its status is `expect` else None, start time)."""
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        at, status, response = time.perf_counter(), None, None
        try:
            response = session.request(method, self.shape.base + path, timeout=30, **kwargs)
            status = response.status_code
        except requests.RequestException:
            pass  # no answer: recorded as lost
        record = {"kind": kind, "at": at - self.started, "ms": (time.perf_counter() - at) * 1000,
                  "status": status, "expect": expect, "sid": sid}
        with self.lock:
            self.records.append(record)
        return (response if status == expect else None), at

    def status_callbacks(self) -> list[dict]:
        """The stand-in's `completed` status callbacks (Twilio's), as records of kind "status"."""
        return [{"kind": "status", "at": c["sent"] - self.started, "ms": c["ms"], "status": c["status"],
                 "expect": 204, "sid": c["sid"]} for c in list(self.shape.standin.callbacks)]

    def press_to_platform(self) -> list[dict]:
        """Per accepted press: the ms from the press to the arrival of its redirect at the stand-in
        (the k-th press of a call matched to the k-th redirect of that call); None if it never came."""
        out = []
        for sid, presses in self.presses.items():
            arrivals = list(self.shape.standin.arrivals.get(sid, []))
            for k, (kind, at) in enumerate(sorted(presses, key=lambda p: p[1])):
                ms = (arrivals[k] - at) * 1000 if k < len(arrivals) else None
                out.append({"kind": kind, "at": at - self.started, "ms": ms, "sid": sid})
        return out
