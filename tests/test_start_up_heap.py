"""Issue 13: a web process's start-up heap is frozen (wsgi.py, app/heap.py) with what its first cards
load already in it: phonenumbers' geocoder, whose 287,000-prefix dict a full collection would
otherwise walk on every pass (~10 ms, one board snapshot in eight or so). Each check runs in a fresh
interpreter: freezing this test process would keep its garbage for good."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The areas cards show (call_flows.calls.live_card.card_json), then the collected heap's largest dict.
_CARDS_THEN_LARGEST_DICT = """
import gc
from call_flows.phone import area
assert area("+441132496000") == "Leeds" and area("+33142685300") == "Paris"
print(max(len(o) for o in gc.get_objects() if isinstance(o, dict)))
"""


def _largest_collected_dict(start_up: str) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["DATABASE_URL"] = "sqlite://"  # no database is touched: the app is built, not served
    done = subprocess.run([sys.executable, "-c", start_up + _CARDS_THEN_LARGEST_DICT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_wsgi_freezes_the_geocoder_with_the_start_up_heap():
    assert _largest_collected_dict("import wsgi\n") < 10_000


def test_the_check_sees_a_geocoder_loaded_after_the_freeze():
    """What wsgi.py did before: freeze, then the first card loads the geocoder into the collected heap."""
    assert _largest_collected_dict("import gc\nfrom app import create_app\napp = create_app()\ngc.freeze()\n") > 200_000
