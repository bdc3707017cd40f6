"""`rq cron workers/cron_config.py` hands the tick and the sweep to the queues the README's worker command
listens to: `<RQ_QUEUE>` and `<RQ_QUEUE>-urgent` (found by the tryout helper: with RQ_QUEUE set, both went
to `callguard`/`callguard-urgent`, which no worker of that deployment listened to, so due retries and lost
hand-overs were never swept and the tick never ran)."""
import importlib
import sys

from rq import cron


def _registered(monkeypatch, queue: str | None) -> dict[str, str]:
    seen: dict[str, str] = {}
    monkeypatch.setattr(cron, "register", lambda func, queue_name, **_: seen.setdefault(func.__name__, queue_name))
    if queue is None:
        monkeypatch.delenv("RQ_QUEUE", raising=False)
    else:
        monkeypatch.setenv("RQ_QUEUE", queue)
    sys.modules.pop("workers.cron_config", None)
    importlib.import_module("workers.cron_config")
    sys.modules.pop("workers.cron_config", None)
    return seen


def test_cron_jobs_go_to_the_default_queues(monkeypatch):
    assert _registered(monkeypatch, None) == {"tick": "callguard", "sweep": "callguard-urgent"}


def test_cron_jobs_go_to_the_queues_rq_queue_names(monkeypatch):
    assert _registered(monkeypatch, "tenant-a") == {"tick": "tenant-a", "sweep": "tenant-a-urgent"}
