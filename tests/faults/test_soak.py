"""Issue 13 item 7, in short: bench/soak.py for about 20 s at a low rate on the scaled-out shape (two
gunicorns behind HAProxy, two RQ workers, rq cron, Redis, PostgreSQL, the HTTP Twilio stand-in).
Every invariant the soak checks must hold: every request answered (no 5xx), every act stored once and
played, one callback task per termination, every side effect once at the stand-in."""
from types import SimpleNamespace

from sqlalchemy.engine import make_url

from bench.soak import options, soak
from bench.soak_check import Ledger, requests_answered
from bench.soak_shape import MANAGER_PHONE
from tests.conftest import PG_URL
from tests.per_worker import scratch_db


def test_a_short_soak_keeps_every_invariant(tmp_path):
    server = make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)
    args = options(["--minutes", "0.34", "--rate", "0.6", "--warn", "0.5", "--terminate", "0.5",
                    "--step-s", "0.5", "--web-workers", "1", "--web-threads", "8", "--handlers", "2",
                    "--server", server, "--db", scratch_db(PG_URL, "soak_shape"), "--png", ""])
    failures, report, counts = soak(args, tmp_path)
    print(report)
    assert failures == []
    assert counts["calls"] >= 10 and counts["terminations"] >= 2 and counts["dials"] == counts["terminations"]


def test_the_soak_checks_catch_a_lost_request_a_5xx_and_a_side_effect_twice():
    """The checks themselves, on a made-up record: they must not pass what the soak exists to catch."""
    sid, caller = "CA" + "1" * 32, "+447550000001"
    records = [{"kind": "ring", "status": 200, "expect": 200, "sid": sid},
               {"kind": "accept", "status": 200, "expect": 200, "sid": sid},
               {"kind": "warn", "status": None, "expect": 201, "sid": sid},
               {"kind": "terminate", "status": 502, "expect": 201, "sid": sid},
               {"kind": "dial", "status": 409, "expect": 202, "sid": sid}]
    assert requests_answered(records) == ["1 requests lost (no answer: 1 x warn)", "1 answers were 5xx", "1 x dial answered 409"]
    assert requests_answered(records[:2]) == []
    redirect = {"method": "POST", "sid": sid, "status": 200, "path": f"/Calls/{sid}.json", "form": {}}
    joined = {"method": "POST", "sid": None, "status": 201, "path": f"/Conferences/cg-{sid}/Participants.json",
              "form": {}}
    placed = {"method": "POST", "sid": None, "status": 201, "path": "/Calls.json",
              "form": {"To": MANAGER_PHONE, "Twiml": f"<Number>{caller}</Number>"}}
    traffic = SimpleNamespace(records=records, presses={sid: [("warn", 1.0)]}, dialled={caller: 1},
                              shape=SimpleNamespace(standin=SimpleNamespace(log=[redirect, joined, placed])))
    ledger = Ledger(traffic, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert ledger.side_effects() == []
    traffic.shape.standin.log += [redirect, joined, placed]  # every side effect a second time
    assert len(ledger.side_effects()) == 3
