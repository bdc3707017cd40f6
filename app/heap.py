"""A serving process's heap after start-up (issue 13): what its first requests would load lazily is
loaded first, then `gc.freeze()` moves the whole start-up heap (~300,000 objects) out of the
collector's reach, so a full collection walks only what requests made since. wsgi.py calls it after
`create_app()`; bench/data_growth.py calls it after its own set-up, so it times what production runs.

Measured on the board snapshot with 550 cards (bench/README.md, "Data growth"): without the freeze
each full collection took ~130 ms, one request in ten or so; frozen, but with phonenumbers' geocoder
loaded after the freeze by the first card, ~12 ms (its 287,000-prefix dict is walked); all frozen,
under 1 ms."""
import gc

from call_flows.phone import load_area_names


def freeze_start_up() -> None:
    """Load what requests would load lazily (the geocoder), then freeze the heap as it is."""
    load_area_names()
    gc.freeze()
