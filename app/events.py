"""Live events for the supervisor board and consoles: Redis pub/sub in production, an in-process
broadcaster in the embedded default. Publishing never fails a request: a lost live event is
recovered by the board's next full refresh, the database being the record."""
import json
import logging
import queue
import threading

log = logging.getLogger(__name__)
CHANNEL = "callguard:events"


class LocalBroadcaster:
    """In-process fan-out: each subscriber gets its own queue."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue] = []

    def publish(self, event: dict) -> None:
        with self._lock:
            for q in self._subscribers:
                q.put(event)

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)


class RedisBroadcaster:
    def __init__(self, redis):
        self.redis = redis

    def publish(self, event: dict) -> None:
        self.redis.publish(CHANNEL, json.dumps(event, default=str))


def init_app(app) -> None:
    redis = app.extensions.get("redis")
    app.extensions["events"] = RedisBroadcaster(redis) if redis is not None else LocalBroadcaster()


def publish(app, kind: str, **payload) -> None:
    try:
        app.extensions["events"].publish({"kind": kind, **payload})
    except Exception:
        log.warning("live event %s not published", kind, exc_info=True)
