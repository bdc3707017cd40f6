"""The live-event bus for the supervisor board and consoles: Redis pub/sub in production, an
in-process broadcaster in the embedded default (`make_bus(redis)`). The unit of work publishes a
committed act's events here (call_flows/unit_of_work.py). Publishing never fails a request: a lost
live event is recovered by the board's next full refresh, the database being the record."""
import json
import os
import queue
import threading
from typing import Any

from call_flows import logs

log = logs.get_logger(__name__)
CHANNEL = "callguard:events"


class LocalBroadcaster:
    """In-process fan-out: each subscriber gets its own queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[dict[str, Any]]] = []

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            for q in self._subscribers:
                q.put(event)

    def subscribe(self) -> "queue.Queue[dict[str, Any]]":
        q: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: "queue.Queue[dict[str, Any]]") -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)


class RedisBroadcaster:
    """PUBLISH on its channel (`EVENTS_CHANNEL`, default CHANNEL). Each thread sends on a Redis
    connection of its own, kept (issue 13: the client's per-command pool checkout, retry wrapper and
    metrics were most of a PUBLISH's CPU at ring time); a connection that fails is reopened once (Redis
    restarted), then the error is raised (`publish` logs it). A client without a connection pool (a
    test's stand-in) publishes as before."""

    def __init__(self, redis: Any, channel: str = CHANNEL) -> None:
        self.redis, self.channel = redis, channel
        self._local = threading.local()

    def publish(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event, default=str)
        if self._connection() is None:
            self.redis.publish(self.channel, payload)
            return
        self.command("PUBLISH", self.channel, payload)

    def command(self, *args: Any) -> Any:
        """Send one command on this thread's kept connection and return its reply (ring time's PUBLISH,
        and its journal script, storage/ring_journal.py). A dropped or timed-out socket is reopened and
        the command sent once more (so send only what is safe to repeat); an error reply is raised."""
        conn = self._connection()
        if conn is None:
            return self.redis.execute_command(*args)
        try:
            conn.send_command(*args)
            return conn.read_response()
        except Exception as exc:  # redis' errors by name: this layer imports no driver
            if type(exc).__name__ in ("ResponseError", "NoScriptError"):
                raise
            conn.disconnect()
            conn.send_command(*args)
            return conn.read_response()

    def _connection(self) -> Any:
        pool = getattr(self.redis, "connection_pool", None)
        if pool is None:
            return None
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():  # a forked child opens its own
            held = self._local.held = (os.getpid(), pool.make_connection())
        return held[1]


Bus = LocalBroadcaster | RedisBroadcaster


def make_bus(redis: Any, channel: str = CHANNEL) -> Bus:
    """Redis pub/sub on `channel` when there is Redis (every web process sees every event), else in-process.
    Pub/sub is server-wide (not per Redis db): deployments sharing one Redis server name their own channel."""
    return RedisBroadcaster(redis, channel) if redis is not None else LocalBroadcaster()


def publish(bus: Bus, event: dict[str, Any]) -> None:
    """Publish `{"kind": ..., **payload}`; a failure is logged, never raised."""
    try:
        bus.publish(event)
    except Exception:
        log.warning("live_event_not_published", kind=event.get("kind"), exc_info=True)


class _LocalSubscription:
    def __init__(self, broadcaster: LocalBroadcaster):
        self._broadcaster = broadcaster
        self._queue = broadcaster.subscribe()

    def get(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._broadcaster.unsubscribe(self._queue)


class _RedisSubscription:
    """Redis pub/sub on the bus's channel; waits for the subscription to be confirmed, so no event
    published after `subscription()` returns is missed."""

    def __init__(self, redis: Any, channel: str) -> None:
        self._pubsub = redis.pubsub()
        self._pubsub.subscribe(channel)
        for _ in range(50):
            message = self._pubsub.get_message(timeout=0.1)
            if message and message["type"] == "subscribe":
                break

    def get(self, timeout: float) -> dict[str, Any] | None:
        message = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        if not message or message.get("type") != "message":
            return None
        data = message["data"]
        try:
            event: dict[str, Any] = json.loads(data.decode() if isinstance(data, bytes) else data)
            return event
        except ValueError:
            return None

    def close(self) -> None:
        try:
            self._pubsub.close()
        except Exception:
            log.debug("pubsub_close_failed", exc_info=True)


def subscription(bus: Bus) -> "_LocalSubscription | _RedisSubscription":
    """A live-event subscription with `get(timeout) -> dict | None` and `close()`."""
    if isinstance(bus, RedisBroadcaster):
        return _RedisSubscription(bus.redis, bus.channel)
    return _LocalSubscription(bus)
