"""How pytest-xdist spreads the suite over its workers (issue 11): `-n 3 --dist loadgroup
--no-loadscope-reorder` in pytest.ini, with our scheduler (`OneAhead`, below) in place of xdist's.

- Most tests are their own unit of work, handed to whichever worker is free.
- A module that starts processes or servers for all its tests (a module-scoped fixture: the fault
  suite's production shape, the ring-snapshot gunicorns) is one group, run whole on one worker, so
  what it starts is started once. The browser tests are one group (one Chromium); Prism's users one.
- The longest groups and tests are collected first (FIRST), so they start at once and the short tests
  fill the other workers around them instead of waiting at the end. A worker is handed its next unit
  when it has one test left (`OneAhead`; xdist's own waits for two left, so a worker running a
  two-test group of a minute took a second long group behind it while another worker sat idle).

Without xdist (`-n0`, `-p no:xdist`) only the order changes: a test never
depends on another's order (each runs in its own rolled-back transaction, tests/db_isolation.py).
"""
import os

import pytest

from tests.per_worker import WORKER

try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pytest-xdist is a test requirement; without it the suite runs in one process
    LoadScopeScheduling = object

# Longest first (seconds on a 2-core machine, `--durations`): the groups that decide the run's length.
FIRST = (
    "tests/faults/test_redis_outage.py",  # a minute's outage, mostly waiting
    "tests/browser/",  # 31 tests in one Chromium: the longest group when the browser tests run
    "tests/faults/test_production_shape.py",  # with Prism's other users (PRISM)
    "tests/faults/test_soak.py",
    "tests/faults/test_postgres_restart.py",
    "tests/test_role_matrix.py",  # one test of thousands of requests
    "tests/faults/test_database_faults.py",
    "tests/test_api_schemathesis.py",
    "tests/faults/test_scheduler_holder.py",
    "tests/test_ring_snapshot.py",
    "tests/test_ring_journal.py",  # its own redis-server, stopped and restarted
    "tests/faults/test_outbox_faults.py",
)
WHOLE_MODULES = ("tests/faults/", "tests/test_ring_snapshot.py", "tests/test_ring_journal.py", "tests/test_twilio_urls.py")
# Prism (tests/prism.py) starts once per worker that asks for it: its users share one worker.
PRISM = ("tests/test_twilio_prism.py", "tests/test_callback_prism.py", "tests/faults/test_production_shape.py")
# Modules that time the service (ring time within 2 s, a change seen within 1 s, an import in seconds): under
# xdist (as root, as in CI) their worker and the processes it starts run at a higher CPU priority than the
# other workers' tests, so the suite's own parallel work never slows the service they time.
TIMED = ("tests/faults/", "tests/test_ring_snapshot.py", "tests/test_register_import.py",
         "tests/test_stream_limits.py")
TIMED_NICE = -5


def _group(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/browser/"):
        return "browser"
    if path.startswith(PRISM):
        return "prism"
    if path.startswith(WHOLE_MODULES):
        return path
    return None


def _rank(nodeid: str) -> int:
    return next((n for n, prefix in enumerate(FIRST) if nodeid.startswith(prefix)), len(FIRST))


def pytest_collection_modifyitems(config, items):
    """The longest groups first (a stable sort: within a rank, collection order is kept)."""
    items.sort(key=lambda item: _rank(item.nodeid))


def pytest_addoption(parser, pluginmanager):
    """`-p no:xdist` (debugging in one process) leaves pytest.ini's `-n`, `--dist` and
    `--no-loadscope-reorder` without an owner: accept and ignore them then."""
    if pluginmanager.is_blocked("xdist"):
        group = parser.getgroup("xdist (disabled by -p no:xdist: ignored)")
        group._addoption("-n", "--numprocesses", dest="numprocesses", default=None)
        group.addoption("--dist", dest="dist", default="no")
        group.addoption("--no-loadscope-reorder", dest="loadscopereorder", action="store_false")


@pytest.fixture(scope="module", autouse=True)
def _timed_priority(request):
    """A TIMED module runs (with every process it starts) at nice TIMED_NICE, under xdist as root only;
    autouse, so it is set before the module's own fixtures start gunicorn, RQ workers or Redis."""
    timed = request.node.nodeid.startswith(TIMED)
    if not (timed and WORKER and os.geteuid() == 0):
        yield
        return
    os.setpriority(os.PRIO_PROCESS, 0, TIMED_NICE)
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, 0)


class OneAhead(LoadScopeScheduling):
    """xdist's scope scheduling with our units (`_group`: a whole module, the browser tests, Prism's users;
    else one test), handing a worker its next unit when it has one test left (a worker needs the test
    after the one it runs, to know which fixtures to tear down), not two: long groups never queue behind
    each other on one worker while another is free. (xdist's own `xdist_group` marks do nothing under
    pytest 9: xdist renames the test's nodeid, which pytest 9 no longer lets it do.)"""

    def _split_scope(self, nodeid: str) -> str:
        return _group(nodeid) or nodeid

    def _reschedule(self, node) -> None:
        if node.shutting_down:
            return
        if not self.workqueue:
            node.shutdown()
            return
        if self._pending_of(self.assigned_work[node]) <= 1:
            self._assign_work_unit(node)


class _XdistHooks:
    @staticmethod
    def pytest_xdist_make_scheduler(config, log):
        return OneAhead(config, log) if config.getvalue("dist") == "loadgroup" else None


def pytest_configure(config):
    """Hands xdist `OneAhead` (registered only when xdist runs: `-p no:xdist` knows no such hook)."""
    if not config.pluginmanager.is_blocked("xdist") and config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(), "callguard-xdist-scheduler")
