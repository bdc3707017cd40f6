"""Issue 13 item 7, in short: bench/soak.py for about 20 s at a low rate on the scaled-out shape (two
gunicorns behind HAProxy, two RQ workers, rq cron, Redis, PostgreSQL, the HTTP Twilio stand-in).
Every invariant the soak checks must hold: every request answered (no 5xx), every act stored once and
played, one callback task per termination, every side effect once at the stand-in."""
from sqlalchemy.engine import make_url

from bench.soak import options, soak
from tests.conftest import PG_URL


def test_a_short_soak_keeps_every_invariant(tmp_path):
    server = make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)
    args = options(["--minutes", "0.34", "--rate", "0.6", "--warn", "0.5", "--terminate", "0.5",
                    "--step-s", "0.5", "--web-workers", "1", "--web-threads", "8", "--handlers", "2",
                    "--server", server, "--db", "soak_shape", "--png", ""])
    failures, report, counts = soak(args, tmp_path)
    print(report)
    assert failures == []
    assert counts["calls"] >= 10 and counts["terminations"] >= 2 and counts["dials"] == counts["terminations"]
