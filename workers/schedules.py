"""The periodic checks `workers.jobs.tick` runs every minute, named by dotted path (RQ's habit), in
the order they run. Each is `fn(wiring, now) -> summary` (wiring: workers.context); `now` is passed in so tests
control the clock. A new check is a function in its own module under workers/ and one line here."""
import importlib
from typing import Callable

PERIODIC = (
    "workers.register_jobs.register_deadlines",  # caution register R6, R9
    "workers.register_jobs.register_retention",
    "workers.deadlines.check_deadlines",  # callbacks and incidents: overdue, retries, I5, I7
    "workers.retention_jobs.retention_purge",  # R9 retention of calls, notes, tasks, receipts, mail
    "workers.reconcile_jobs.reconcile_calls",  # calls whose status callbacks never came (issue 12)
)


def periodic_jobs() -> list[Callable]:
    """The functions PERIODIC names, imported (an unknown path raises ImportError/AttributeError here,
    at the first tick, not silently never running)."""
    jobs = []
    for path in PERIODIC:
        module, _, name = path.rpartition(".")
        jobs.append(getattr(importlib.import_module(module), name))
    return jobs
