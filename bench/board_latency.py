#!/usr/bin/env python3
"""Webhook-to-board latency: how soon a ringing call reaches an open supervisor board (issue 6's
"within one second of the webhook"; moved here from the browser test, which no longer times anything).

    .venv/bin/python bench/board_latency.py [--calls 50] [--target-s 1.0]

The embedded default (SQLite in a temporary folder, in-process live events) served over HTTP by
werkzeug's threaded server on 127.0.0.1; one supervisor holds `GET /board/events` open; each call is a
signed `POST /twilio/voice/inbound`, timed from just before the POST until its `call_ringing` event is
read from the stream. Prints p50/p99/max and exits 1 when the slowest call misses `--target-s`.
"""
import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.cli.db_cmd import upgrade  # noqa: E402
from app.cli.users_cmd import add_user  # noqa: E402
from app.db import db_session  # noqa: E402
from app.simulator import new_call_sid, post_to_service  # noqa: E402


def serve(folder: Path):
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "REDIS_URL": None,
                      "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "PUBLIC_BASE_URL": None,
                      "MAIL_OUTBOX_DIR": str(folder / "outbox"), "SSE_LIFETIME_S": 3600})
    with app.app_context():
        session = db_session()
        _, token = add_user(session, "supervisor", "supervisor", None, None, None, "GB")
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{server.server_port}", token


def ringing_events(stream):
    """Yields (CallSid, arrival time) for each call_ringing event on the SSE stream."""
    for line in stream.iter_lines(decode_unicode=True):
        if line and line.startswith("data: "):
            event = json.loads(line[len("data: "):])
            if event.get("kind") == "call_ringing":
                yield event["call_sid"], time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--target-s", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app, server, base, token = serve(Path(folder))
        stream = requests.get(base + "/board/events", headers={"Authorization": f"Bearer {token}"},
                              stream=True, timeout=30)
        stream.raise_for_status()
        events, took = ringing_events(stream), []
        for i in range(args.calls):
            sid = new_call_sid()
            params = {"CallSid": sid, "From": f"+4477009{i:05d}", "To": "+441632960000", "CallStatus": "ringing"}
            started = time.perf_counter()
            assert post_to_service(app, base, "/twilio/voice/inbound", params).status_code == 200
            seen, at = next(events)
            assert seen == sid, f"expected {sid}, the board showed {seen}"
            took.append(at - started)
        stream.close()
        server.shutdown()
    took.sort()
    p99 = took[min(len(took) - 1, round(0.99 * (len(took) - 1)))]
    print(f"webhook to board, {len(took)} calls: p50 {statistics.median(took) * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {took[-1] * 1000:.1f} ms (target: every call within {args.target_s} s)")
    return 0 if took[-1] <= args.target_s else 1


if __name__ == "__main__":
    sys.exit(main())
