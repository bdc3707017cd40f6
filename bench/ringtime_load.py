"""bench/ringtime.py's load: pre-signed inbound webhooks replayed by wrk, and what each endpoint
used (requests, latency histogram, CPU per request)."""
import os
import random
import re
import resource
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.ringtime_db import CALLED, FLAGGED, PAST_ONLY, admin_conninfo  # noqa: E402

AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
RUN_TAG = uuid.uuid4().hex[:8]  # every CallSid of this run starts "CA" + RUN_TAG (its live events are counted)
ACCOUNT_SID = "AC" + "b" * 32
CALLER_MIX = (("flagged", 0.4), ("past", 0.4), ("new", 0.2))
RESULT_RE = re.compile(r"^RESULT (.*)$", re.M)
HIST_RE = re.compile(r"^HIST (.*)$", re.M)

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  reqs = {}
  for line in io.lines(args[1] .. "-" .. tid .. ".txt") do
    local sig, body = line:match("^([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", args[2], {["Content-Type"] = "application/x-www-form-urlencoded",
                                                   ["X-Twilio-Signature"] = sig}, body)
  end
  n = 0
  wrapped = 0
end
function request()
  n = n + 1
  if n > #reqs then n = 1; wrapped = wrapped + 1 end
  return reqs[n]
end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
  local e = summary.errors
  local hist = {}
  for i = 1, #latency do
    local v, c = latency(i)
    hist[#hist + 1] = v .. ":" .. c
  end
  io.write("HIST " .. table.concat(hist, ",") .. "\n")
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f " ..
    "max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d wrapped=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout, w))
end
"""



def request_params(call_sid: str, caller: str) -> dict:
    """What Twilio posts for an inbound call (the fields that matter, and the usual extras)."""
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid, "CallStatus": "ringing",
            "Called": CALLED, "CalledCountry": "GB", "Caller": caller, "CallerCountry": "GB",
            "Direction": "inbound", "From": caller, "FromCountry": "GB", "To": CALLED, "ToCountry": "GB"}


def random_caller(rng: random.Random) -> str:
    pick = rng.random()
    if pick < CALLER_MIX[0][1]:
        return f"+44751{rng.randrange(FLAGGED):07d}"
    if pick < CALLER_MIX[0][1] + CALLER_MIX[1][1]:
        return f"+44752{rng.randrange(PAST_ONLY):07d}"
    return f"+44753{rng.randrange(10_000_000):07d}"


def write_requests(prefix: Path, url: str, threads: int, per_thread: int, rng: random.Random) -> None:
    validator = RequestValidator(AUTH_TOKEN)
    for tid in range(threads):
        with open(f"{prefix}-{tid}.txt", "w") as out:
            for _ in range(per_thread):
                params = request_params("CA" + RUN_TAG + uuid.uuid4().hex[8:], random_caller(rng))
                out.write(validator.compute_signature(url, params) + "\t" + urlencode(params) + "\n")


def run_wrk(args, script: Path, prefix: Path, port: int, seconds: float) -> dict:
    cmd = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{port}", "--", str(prefix), "/twilio/voice/inbound"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    match, hist = RESULT_RE.search(out), HIST_RE.search(out)
    if not match or not hist:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}
    result["errors"] = sum(result[k] for k in result if k.startswith("err_"))
    result["hist"] = Counter()
    for pair in filter(None, hist.group(1).split(",")):
        value, count = pair.split(":")
        result["hist"][int(value)] += int(count)
    return result


CLK_TCK = os.sysconf("SC_CLK_TCK")
CPU_PARTS = ("app", "db", "redis", "wrk")


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(ppid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return pids


class CpuMeter:
    """CPU used per request, which the load other programs put on the machine hardly changes (unlike
    requests/s): the endpoint's gunicorn processes, the PostgreSQL backends serving the bench database,
    Redis (INFO used_cpu_*), and wrk itself."""

    def __init__(self, args, server):  # a bench.ringtime_servers.Server
        self.args, self.server = args, server

    def snapshot(self) -> dict:
        pids = [self.server.proc.pid, *_children(self.server.proc.pid)]
        snap = {"app": sum(_proc_cpu(p) for p in pids), "db": 0.0, "redis": 0.0,
                "wrk": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
                + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime}
        if self.server.name == "callguard":
            with psycopg.connect(admin_conninfo(self.args), autocommit=True) as conn:
                backends = [r[0] for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.args.db,))]
            snap["db_pids"] = {p: _proc_cpu(p) for p in backends}
            from redis import Redis

            info = Redis.from_url(self.args.redis_url).info("cpu")
            snap["redis"] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return snap

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        used = {k: after[k] - before[k] for k in ("app", "redis", "wrk")}
        old = before.get("db_pids", {})
        used["db"] = sum(cpu - old.get(pid, 0.0) for pid, cpu in after.get("db_pids", {}).items())
        return used


class Totals:
    """One endpoint's measured rounds merged: requests, time, the latency histogram (µs), CPU used."""

    def __init__(self):
        self.requests = self.duration_us = self.errors = self.wrapped = 0
        self.hist: Counter = Counter()
        self.rounds: list[float] = []
        self.cpu = dict.fromkeys(CPU_PARTS, 0.0)

    def cpu_ms(self, part: str | None = None) -> float:
        """CPU milliseconds per request, of one part or all."""
        used = self.cpu[part] if part else sum(self.cpu.values())
        return 1000 * used / max(1, self.requests)

    def add(self, r: dict) -> None:
        for part in CPU_PARTS:
            self.cpu[part] += r["cpu"][part]
        self.requests += r["requests"]
        self.duration_us += r["duration_us"]
        self.errors += r["errors"]
        self.wrapped += r["wrapped"]
        self.hist.update(r["hist"])
        self.rounds.append(r["requests"] / (r["duration_us"] / 1e6))

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    def percentile(self, p: float) -> float:
        """Latency in ms at percentile p of all measured requests."""
        total, seen = sum(self.hist.values()), 0
        for value in sorted(self.hist):
            seen += self.hist[value]
            if seen >= total * p / 100:
                return value / 1000
        return 0.0


