"""Ring-time flags held in memory (issue 13): R1 markers, C3 restrictions and the R10 history of every
flagged number, so a ring reads them without a query. Pure Python; storage/ring_listener.py fills it
from PostgreSQL and keeps it fresh from change notifications fired by triggers (migration 0021).

The snapshot only answers while the listener has confirmed, less than STALE_S ago, that every change
committed before then is applied (`confirmed_at`, a round trip on its connection): otherwise (not
loaded yet, listener disconnected or stuck) ring time runs the query, never stale-forever flags. So a
change is seen by every ring that starts STALE_S after its commit (issue 13 item 2: within 1 s). Calls today (C2) are never
held here: they stay exact across processes in the ring statement that inserts the call.
"""
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STALE_S = 0.9  # the snapshot answers only if every change committed this long ago is known applied


@dataclass(frozen=True)
class NumberFlags:
    """What is known about one number: in-force register entries as (marker, expires_at), the newest
    active restriction's id, and the times of its warnings and terminations since the horizon."""

    entries: tuple[tuple[int, datetime], ...] = ()
    restriction_id: int | None = None
    warnings: tuple[datetime, ...] = ()
    terminations: tuple[datetime, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries or self.restriction_id or self.warnings or self.terminations)


class RingSnapshot:
    """Flags by E.164 number. Swapped whole on a full load, one number at a time on a change; reads
    take no lock (a dict lookup and a reference swap are atomic in CPython)."""

    def __init__(self) -> None:
        self._numbers: dict[str, NumberFlags] = {}
        self.horizon: datetime | None = None  # warnings/terminations after this are all held
        self.confirmed_at = float("-inf")  # time.monotonic() up to which every committed change is applied

    @property
    def live(self) -> bool:
        return time.monotonic() - self.confirmed_at < STALE_S

    def down(self) -> None:
        """The listener lost its connection: stop answering now."""
        self.confirmed_at = float("-inf")

    def __len__(self) -> int:
        return len(self._numbers)

    def replace(self, numbers: dict[str, NumberFlags], horizon: datetime) -> None:
        """A full load (start-up, reconnect, or a burst of changes)."""
        self._numbers, self.horizon = numbers, horizon

    def put(self, number: str, flags: NumberFlags) -> None:
        """One number recomputed after a change notification (an empty NumberFlags forgets it)."""
        if flags:
            self._numbers[number] = flags
        else:
            self._numbers.pop(number, None)

    def flags(self, number: str | None, now: datetime, since: datetime) -> dict[str, Any] | None:
        """The FLAGS_SELECT columns but calls_today (marker, restriction_id, warnings, terminations),
        as the query would give them at `now` with the R10 window starting at `since`; None when the
        snapshot cannot answer (not live, or the window reaches before what was loaded)."""
        if not self.live or self.horizon is None or since < self.horizon:
            return None
        held = self._numbers.get(number) if number else None
        if held is None:
            return {"marker": None, "restriction_id": None, "warnings": 0, "terminations": 0}
        markers = [marker for marker, expires in held.entries if expires > now]
        return {"marker": min(markers) if markers else None, "restriction_id": held.restriction_id,
                "warnings": sum(1 for at in held.warnings if at > since),
                "terminations": sum(1 for at in held.terminations if at > since)}
