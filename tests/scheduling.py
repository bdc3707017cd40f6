"""How pytest-xdist spreads the suite over its workers (issue 11): `-n 3 --dist loadgroup
--no-loadscope-reorder` in pytest.ini.

- Most tests are their own unit of work, handed to whichever worker is free.
- A module that starts processes or servers for all its tests (a module-scoped fixture: the fault
  suite's production shape, the ring-snapshot gunicorns) is one group, run whole on one worker, so
  what it starts is started once. The browser tests are one group (one Chromium).
- The longest groups and tests are collected first (FIRST), so they start at once and the short tests
  fill the other workers around them instead of waiting at the end. xdist hands each worker a second
  unit at the start: the fourth unit (the first worker's second, behind the outage) is a short one.

Without xdist (`-n0`, `-p no:xdist`) the marks are inert and only the order changes: a test never
depends on another's order (each runs in its own rolled-back transaction, tests/db_isolation.py).
"""
import pytest

# Longest first (seconds on a 2-core machine, `--durations`): the groups that decide the run's length.
FIRST = (
    "tests/faults/test_redis_outage.py",  # a minute's outage, mostly waiting
    "tests/test_role_matrix.py",  # one test of thousands of requests
    "tests/test_api_schemathesis.py",
    "tests/faults/test_outbox_faults.py",  # short: queued behind the outage until a worker is free
    "tests/faults/test_soak.py",
    "tests/browser/",
    "tests/faults/test_postgres_restart.py",
    "tests/faults/test_production_shape.py",
    "tests/faults/test_database_faults.py",
    "tests/faults/test_scheduler_holder.py",
    "tests/test_ring_snapshot.py",
)
WHOLE_MODULES = ("tests/faults/", "tests/test_ring_snapshot.py", "tests/test_twilio_urls.py")


def _group(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/browser/"):
        return "browser"
    if path.startswith(WHOLE_MODULES):
        return path
    return None


def _rank(nodeid: str) -> int:
    return next((n for n, prefix in enumerate(FIRST) if nodeid.startswith(prefix)), len(FIRST))


def pytest_collection_modifyitems(config, items):
    """Group whole modules (xdist_group marks) and put the longest groups first (a stable sort:
    within a rank, collection order is kept)."""
    for item in items:
        group = _group(item.nodeid)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: _rank(item.nodeid))


def pytest_addoption(parser, pluginmanager):
    """`-p no:xdist` (debugging in one process) leaves pytest.ini's `-n`, `--dist` and
    `--no-loadscope-reorder` without an owner: accept and ignore them then."""
    if pluginmanager.is_blocked("xdist"):
        group = parser.getgroup("xdist (disabled by -p no:xdist: ignored)")
        group._addoption("-n", "--numprocesses", dest="numprocesses", default=None)
        group.addoption("--dist", dest="dist", default="no")
        group.addoption("--no-loadscope-reorder", dest="loadscopereorder", action="store_false")
