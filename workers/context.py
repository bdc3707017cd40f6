"""The wiring jobs run with: a `call_flows.jobs.handover.HandOver` (sessions, the queue, the platform,
the mailer, the live-event bus and the configuration), installed once per process by whatever starts
the worker (app/worker.py's `CallguardWorker`, `flask jobs tick`, tests). workers/ never imports app/."""
from call_flows.jobs.handover import HandOver

_wiring: HandOver | None = None


def use(wiring: HandOver | None) -> None:
    """Run jobs with `wiring` (None: forget it)."""
    global _wiring
    _wiring = wiring


def wiring() -> HandOver:
    """The installed wiring. Raises RuntimeError when none is (a worker started without
    `--worker-class app.worker.CallguardWorker`)."""
    if _wiring is None:
        raise RuntimeError("no wiring installed: run workers with --worker-class app.worker.CallguardWorker")
    return _wiring
