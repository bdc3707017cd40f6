"""Issue 13: the in-process ring snapshot (call_flows/calls/ring_snapshot.py) answers as the ring
statement's FLAGS_SELECT would, and refuses to answer when it cannot be sure (then ring time queries)."""
import time
from datetime import datetime, timedelta, timezone

from call_flows.calls.ring_snapshot import STALE_S, NumberFlags, RingSnapshot

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
SINCE = NOW - timedelta(days=30)


def _live(numbers: dict) -> RingSnapshot:
    snapshot = RingSnapshot()
    snapshot.replace(numbers, NOW - timedelta(days=400))
    snapshot.confirmed_at = time.monotonic()
    return snapshot


def test_13_marker_is_the_lowest_unexpired_and_counts_are_within_the_window_r1_r10():
    flags = NumberFlags(entries=((3, NOW + timedelta(days=1)), (1, NOW - timedelta(seconds=1)), (2, NOW + timedelta(days=9))),
                        restriction_id=7, warnings=(NOW - timedelta(days=31), NOW - timedelta(days=1)),
                        terminations=(SINCE, SINCE + timedelta(seconds=1)))
    snapshot = _live({"+447700900001": flags})
    assert snapshot.flags("+447700900001", NOW, SINCE) == {
        "marker": 2, "restriction_id": 7, "warnings": 1, "terminations": 1}  # expired entry 1 and `since` itself left out
    assert snapshot.flags("+447700900002", NOW, SINCE) == {
        "marker": None, "restriction_id": None, "warnings": 0, "terminations": 0}
    assert snapshot.flags(None, NOW, SINCE)["marker"] is None  # withheld


def test_13_put_replaces_one_number_and_an_empty_one_forgets_it():
    snapshot = _live({"+447700900001": NumberFlags(restriction_id=1)})
    snapshot.put("+447700900001", NumberFlags())
    snapshot.put("+447700900003", NumberFlags(entries=((1, NOW + timedelta(days=1)),)))
    assert len(snapshot) == 1
    assert snapshot.flags("+447700900003", NOW, SINCE)["marker"] == 1


def test_13_the_snapshot_does_not_answer_unless_confirmed_recently_or_for_a_window_it_does_not_hold():
    snapshot = _live({})
    assert snapshot.flags("+447700900001", NOW, SINCE) is not None
    assert snapshot.flags("+447700900001", NOW, NOW - timedelta(days=401)) is None  # before the horizon
    snapshot.confirmed_at -= STALE_S  # the listener has not confirmed for STALE_S
    assert snapshot.flags("+447700900001", NOW, SINCE) is None
    snapshot.confirmed_at += STALE_S
    snapshot.down()  # the listener lost its connection
    assert snapshot.flags("+447700900001", NOW, SINCE) is None
    assert RingSnapshot().flags("+447700900001", NOW, SINCE) is None  # never loaded
