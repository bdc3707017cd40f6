"""How many live streams one web process holds open (9.9). Each open board or console keeps one
server thread for as long as its stream lasts; ring time must be answered whatever the number of
open pages, so a process holds at most `max_streams` streams (below its thread count: the other
threads stay free for Twilio's webhooks) and one member of staff at most `max_per_user` of them.
Beyond either cap the stream is refused with 503 and `Retry-After`; the pages keep refreshing
their snapshot every 30 s meanwhile and retry the stream by themselves."""
import threading
from collections import Counter
from typing import Callable

DEFAULT_MAX_STREAMS = 8  # when the server's thread count is unknown (the development server: a thread a request)
DEFAULT_MAX_PER_USER = 2
RETRY_AFTER_S = 15


def max_streams_for_threads(threads: int) -> int:
    """Streams a process with `threads` request threads may hold: a quarter of the threads (and at
    least 2) stay free for webhooks and snapshots; a single-threaded (sync) worker holds none."""
    return max(0, threads - max(2, threads // 4))


def limits(config: dict) -> tuple[int, int]:
    """(per process, per user) from the app's config: `SSE_MAX_STREAMS`, else derived from
    `SERVER_THREADS` (set by gunicorn.conf.py for each gunicorn worker), else the default;
    `SSE_MAX_STREAMS_PER_USER`."""
    per_process = config.get("SSE_MAX_STREAMS")
    if per_process is None:
        threads = config.get("SERVER_THREADS")
        per_process = max_streams_for_threads(int(threads)) if threads else DEFAULT_MAX_STREAMS
    return int(per_process), int(config.get("SSE_MAX_STREAMS_PER_USER") or DEFAULT_MAX_PER_USER)


class StreamSlots:
    """A thread-safe count of the streams open in this process, per user."""

    def __init__(self):
        self._lock = threading.Lock()
        self._per_user: Counter = Counter()

    @property
    def open(self) -> int:
        with self._lock:
            return sum(self._per_user.values())

    def acquire(self, user_id: int, max_streams: int, max_per_user: int) -> Callable[[], None] | None:
        """A slot for `user_id`: returns its `release()` (safe to call more than once), or None
        when the process or the user is at the cap."""
        with self._lock:
            if sum(self._per_user.values()) >= max_streams or self._per_user[user_id] >= max_per_user:
                return None
            self._per_user[user_id] += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self._per_user[user_id] -= 1
                if self._per_user[user_id] <= 0:
                    del self._per_user[user_id]

        return release


def slots(app) -> StreamSlots:
    return app.extensions.setdefault("stream_slots", StreamSlots())
