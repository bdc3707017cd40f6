"""Issue 13: the parts of the ring journal (storage/ring_journal.py) that need no second process.

- the live event's C2 version is derived from the first by replacement: it must equal the event built
  from the C2 flags, byte for byte, for every kind of caller and flag;
- a status callback for an inbound call with no row (ring time's row lost) records the call from the
  callback; one for a leg callguard dialled (outbound) records nothing.
"""
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.db import db_session
from app.simulator import new_call_sid, signed_post
from app.twilio_hooks.voice import ringing_live
from call_flows.calls.ring import RingFlags
from call_flows.models import Call
from call_flows.phone import classify_caller
from storage.ring_journal_wire import c2_version, row_json

NOW = datetime(2026, 11, 30, 9, 15, tzinfo=timezone.utc)
KINDS = [  # (marker, restriction, R10 signals)
    (None, None, []), (2, None, []), (None, None, ["repeat_warnings"]), (None, 7, []),
    (1, 7, ["repeat_warnings", "previous_termination"]),
]


@pytest.mark.parametrize("marker,restriction,signals", KINDS)
def test_13_c2_version_of_the_ringing_event_is_the_event_built_with_c2_r1_r10_c2_c3(app, marker, restriction, signals):
    caller = classify_caller("+447700900123", "GB")
    base = RingFlags(marker, restriction, signals=signals)
    with_c2 = RingFlags(marker, restriction, signals=[*signals, "many_calls_today"])
    with app.app_context():
        built = json.dumps(ringing_live("CAjournal", caller, base, NOW, None), default=str)
        expected = json.dumps(ringing_live("CAjournal", caller, with_c2, NOW, None), default=str)
    assert c2_version(built, base, with_c2) == expected
    assert json.loads(row_json("CAjournal", caller, None, NOW, with_c2, True))["ring_signals"][-1] == "many_calls_today"


def test_13_row_json_keeps_ring_flags_only_when_there_are_any_as_the_ring_statement_does():
    caller = classify_caller("+447700900123", "GB")
    plain = json.loads(row_json("CA1", caller, "+441632960000", NOW, RingFlags(), False))
    assert (plain["ring_marker"], plain["ring_signals"], plain["ring_restricted"]) == (None, None, None)
    c2 = json.loads(row_json("CA1", caller, None, NOW, RingFlags(signals=["many_calls_today"]), True))
    assert (c2["ring_signals"], c2["ring_restricted"]) == (["many_calls_today"], False)


def _status(app, client, sid, direction):
    return signed_post(app, client, "/twilio/voice/status", {
        "CallSid": sid, "From": "+447700900123", "To": "+441632960000", "CallStatus": "completed",
        "CallDuration": "42", "Direction": direction, "SequenceNumber": "3"})


def test_13_status_callback_for_an_inbound_call_with_no_row_records_the_call(app, client):
    sid = new_call_sid()
    assert _status(app, client, sid, "inbound").status_code == 204
    with app.app_context():
        call = db_session().scalar(select(Call).where(Call.call_sid == sid))
        assert (call.caller, call.caller_kind, call.status, call.duration_s) == ("+447700900123", "number", "completed", 42)
        assert call.ring_marker is None and call.ring_signals is None  # nobody saw flags at ring time


def test_13_status_callback_for_a_dialled_leg_with_no_row_records_nothing(app, client):
    sid = new_call_sid()
    assert _status(app, client, sid, "outbound-api").status_code == 204
    with app.app_context():
        assert db_session().scalar(select(Call).where(Call.call_sid == sid)) is None


def test_13_a_rebuild_does_not_mark_a_day_ready_that_was_forgotten_while_it_ran_c2():
    """A process that wrote rings to the database while Redis failed forgets the day's ready mark when
    Redis answers (storage/ring_journal.py). A rebuild that began before those rings were committed
    must not then mark the day ready without them: it gives up, and the next rebuild marks it."""
    from datetime import date

    from redis import Redis
    from sqlalchemy import create_engine

    from storage.ring_journal import RingJournal
    from storage.ring_journal_wire import day_key
    from tests.conftest import PG_URL, REDIS_URL

    redis, engine = Redis.from_url(REDIS_URL), create_engine(PG_URL)
    day = date(2001, 1, 1)  # a day no other test rings on
    ready, gen = day_key(day, "ready"), day_key(day, "ready:gen")
    redis.delete(ready, gen)

    class ForgottenMidway:  # the engine, but another process forgets the day as the rebuild reads
        def connect(self):
            redis.incr(gen)
            return engine.connect()

    journal = RingJournal(redis, engine, "callguard:test-journal", redis.execute_command)
    try:
        journal.engine = ForgottenMidway()  # type: ignore[assignment]
        assert journal.rebuild(day) is False and not redis.exists(ready)
        journal.engine = engine
        assert journal.rebuild(day) is True and redis.exists(ready)
    finally:
        redis.delete(ready, gen)
        engine.dispose()


def test_13_a_lookup_finds_a_call_the_flusher_moves_between_its_select_and_its_redis_read():
    """Seen live (2 gunicorn workers, ring then GET /api/v1/calls/<sid> 0-80 ms later, 8 clients): 3 of 2,000
    look-ups answered 404 `no call ... you may read` for a call that was in the table a moment later.
    find_call SELECTs (no row yet), another process's flusher commits the row and HDELs it, then find_call's
    HGET finds nothing. Here the flusher's pass is put exactly there."""
    import uuid

    from redis import Redis
    from sqlalchemy import create_engine, delete
    from sqlalchemy.orm import Session

    from call_flows.calls.pending import PendingCalls, find_call
    from storage.ring_journal import RingJournal
    from storage.ring_journal_wire import PENDING
    from tests.conftest import PG_URL, REDIS_URL

    redis, engine = Redis.from_url(REDIS_URL), create_engine(PG_URL)
    sid = "CA" + uuid.uuid4().hex
    redis.hset(PENDING, sid, row_json(sid, classify_caller("+447700900123", "GB"), None, NOW, RingFlags(), False))
    flusher = RingJournal(redis, engine, "callguard:test-journal", redis.execute_command)  # another process's

    class FlusherBetween:  # Redis, but the other process's flusher runs just before the look-up's HGET
        def __getattr__(self, name):
            return getattr(redis, name)

        def hget(self, *args):
            flusher.flush()
            return redis.hget(*args)

    reader = RingJournal(redis, engine, "callguard:test-journal", redis.execute_command)
    reader.redis = FlusherBetween()  # type: ignore[assignment]
    holder = PendingCalls()
    holder.source = reader
    try:
        with Session(engine, info={"pending_calls": holder}) as session:
            call = find_call(session, sid)
            assert call is not None and call.call_sid == sid
    finally:
        with engine.begin() as conn:
            conn.execute(delete(Call).where(Call.call_sid == sid))
        redis.hdel(PENDING, sid)
        engine.dispose()


def test_13_one_row_the_database_refuses_does_not_stop_the_flusher_writing_the_others():
    """Seen live: a signed ring with From `sip:al\\x00ice@example.com` is answered 200 and waits in
    callguard:ring:pending; from then on every flusher pass (web processes and RQ workers) fails with
    `UntranslatableCharacter: unsupported Unicode escape sequence`, the five rings after it stayed out of
    `calls` (the board did not show them), and GET /api/v1/calls/<that sid> answered 500."""
    import uuid

    from redis import Redis
    from sqlalchemy import create_engine, delete, select

    from storage.ring_journal import RingJournal
    from storage.ring_journal_wire import PENDING, REFUSED
    from tests.conftest import PG_URL, REDIS_URL

    redis, engine = Redis.from_url(REDIS_URL), create_engine(PG_URL)
    bad, good = "CA" + uuid.uuid4().hex, "CA" + uuid.uuid4().hex
    refused = json.loads(row_json(bad, classify_caller("sip:alice@example.com", "GB"), None, NOW, RingFlags(), False))
    refused["caller_raw"] = "sip:al\x00ice@example.com"  # what PostgreSQL refuses (ring time now strips it)
    redis.hset(PENDING, bad, json.dumps(refused))
    redis.hset(PENDING, good, row_json(good, classify_caller("+447700900123", "GB"), None, NOW, RingFlags(), False))
    journal = RingJournal(redis, engine, "callguard:test-journal", redis.execute_command)
    try:
        try:
            journal.flush()
        except Exception:
            pass  # today: the whole batch fails
        with engine.connect() as conn:
            assert conn.scalar(select(Call.id).where(Call.call_sid == good)) is not None
        assert not redis.hexists(PENDING, good) and not redis.hexists(PENDING, bad)
        assert redis.hexists(REFUSED, bad)  # set aside for an operator, never retried in every pass
    finally:
        with engine.begin() as conn:
            conn.execute(delete(Call).where(Call.call_sid.in_([bad, good])))
        redis.hdel(PENDING, bad, good)
        redis.hdel(REFUSED, bad)
        engine.dispose()


def test_13_a_nul_in_twilios_from_or_to_is_dropped_before_it_reaches_a_stored_row():
    """PostgreSQL's text cannot hold NUL: the caller's raw text and the number called are stored without
    it, on the journal's row and the database statement's parameters alike."""
    from call_flows.calls.ring import ring_params

    caller = classify_caller("sip:al\x00ice@example.com", "GB")
    assert (caller.kind, caller.raw) == ("sip", "sip:alice@example.com")
    row = json.loads(row_json("CA1", caller, "+44163\x002960000", NOW, RingFlags(), False))
    assert row["called"] == "+441632960000"
    assert ring_params("CA1", caller, "+44163\x002960000", NOW, _settings())["called"] == "+441632960000"


def _settings():
    from call_flows.settings import OrgSettings
    return OrgSettings()


def test_13_a_ring_that_met_a_day_not_ready_is_recorded_when_the_day_turns_ready_before_its_second_try():
    """Seen live (2 gunicorn workers, 8 clients ringing, the day's ready mark deleted every 0.25 s as
    after a Redis outage, a Redis restart or at midnight): 67 of 12,840 rings answered 200 with TwiML
    were in neither `calls` nor callguard:ring:pending, each CallSid in its caller's set (counted for
    C2); the handler's accept answered 404 until a status callback recreated the call. Here the flusher
    marks the day ready exactly between ring time's two journal.ring calls."""
    import uuid
    from datetime import datetime, timezone

    from redis import Redis
    from sqlalchemy import delete, select
    from werkzeug.datastructures import MultiDict

    from app.twilio_hooks.voice import record_and_answer
    from call_flows import settings as org_settings
    from call_flows.calls.ring_snapshot import RingSnapshot
    from call_flows.clock import local_date, utcnow
    from storage.ring_journal import RingJournal
    from app import create_app
    from storage.ring_journal_wire import PENDING, day_key
    from tests.conftest import PG_URL, REDIS_URL

    app = create_app({"DATABASE_URL": PG_URL, "SECRET_KEY": "test-secret", "REDIS_URL": None, "TESTING": True,
                      "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "PUBLIC_BASE_URL": None})
    redis, engine = Redis.from_url(REDIS_URL), app.extensions["engine"]  # the journal runs on PostgreSQL
    day = local_date(utcnow())
    redis.delete(day_key(day, "ready"))  # a new day, or Redis back after an outage: not ready yet
    journal = RingJournal(redis, engine, "callguard:test-journal", redis.execute_command)
    first_try = journal.ring

    def ring_then_ready(*args, **kwargs):
        answer = first_try(*args, **kwargs)
        if answer is None:
            assert journal.rebuild(day)  # the flusher (any process's) marks the day ready just now
        return answer

    journal.ring = ring_then_ready  # type: ignore[method-assign]
    snapshot = RingSnapshot()
    snapshot.replace({}, datetime(2000, 1, 1, tzinfo=timezone.utc))
    snapshot.confirmed_at = float("inf")  # live: the common ring takes journal_only
    app.extensions.update(ring_journal=journal, ring_snapshot=snapshot)
    sid = "CA" + uuid.uuid4().hex
    try:
        with app.app_context():
            with engine.connect() as conn:
                org_settings.load(conn)  # cached, as in a process that has rung before
            record_and_answer(sid, MultiDict({"CallSid": sid, "From": "+447700900123", "To": "+441632960000"}))
        with engine.connect() as conn:
            stored = conn.scalar(select(Call.id).where(Call.call_sid == sid)) is not None
        assert stored or redis.hexists(PENDING, sid)
    finally:
        with engine.begin() as conn:
            conn.execute(delete(Call).where(Call.call_sid == sid))
        redis.hdel(PENDING, sid)
        engine.dispose()


def test_c2_a_managers_callback_to_the_caller_is_not_one_of_their_calls_today(app, ring):
    """C2 counts the caller's own calls: a manager's callback legs to them today (direction
    'callback') do not make their next ring `many_calls_today`, on the database path (and the
    journal's rebuild reads the same rows: storage/ring_journal_wire.DAY_CALLS)."""
    from call_flows import settings as org_settings
    from call_flows.clock import utcnow
    from call_flows.models import Call as CallRow

    number = "+447700900777"
    with app.app_context():
        s = db_session()
        org_settings.save(s, "calls_per_day_threshold", 2)
        for n in range(3):
            s.add(CallRow(call_sid=f"CAcallbackleg{n}", direction="callback", caller=number, caller_kind="number",
                          caller_raw=number, status="completed", started_at=utcnow()))
        s.commit()
        org_settings.invalidate()
    first, second, third = (ring(number)[0] for _ in range(3))
    with app.app_context():
        s = db_session()
        signals = {sid: s.scalar(select(CallRow.ring_signals).where(CallRow.call_sid == sid)) or []
                   for sid in (first, second, third)}
    assert ["many_calls_today" in signals[sid] for sid in (first, second, third)] == [False, False, True]
