"""Issue 13: ring time served by the lean WSGI path (app/twilio_hooks/lean.py), answering exactly as
the Flask view does, without running the staff pipeline's request hooks."""
from sqlalchemy import select

from app.db import db_session
from app.simulator import new_call_sid, signed_post
from app.twilio_hooks.lean import LeanRing
from call_flows.models import Call
from tests import twiml


def _form(sid):
    return {"CallSid": sid, "From": "+447700900123", "To": "+441632960000", "CallStatus": "ringing"}


def test_13_lean_ring_answers_with_the_flask_views_twiml_and_headers(app, client):
    lean = app.wsgi_app
    assert isinstance(lean, LeanRing)
    lean_answer = signed_post(app, client, "/twilio/voice/inbound", _form("CA" + "1" * 32))
    app.wsgi_app = lean.inner  # the full Flask pipeline, as before issue 13
    try:
        flask_answer = signed_post(app, app.test_client(), "/twilio/voice/inbound", _form("CA" + "1" * 32))
    finally:
        app.wsgi_app = lean
    assert lean_answer.status_code == flask_answer.status_code == 200
    assert lean_answer.get_data() == flask_answer.get_data()
    same = {k for k in flask_answer.headers.keys() if k not in ("Vary", "Set-Cookie")}
    assert {k: lean_answer.headers[k] for k in same} == {k: flask_answer.headers[k] for k in same}


def test_13_lean_ring_skips_staff_request_hooks_but_records_the_call_r1(configured_app):
    app = configured_app()  # its own app: the hook below must not outlive the test
    client, ran = app.test_client(), []
    app.before_request(lambda: ran.append(1))
    sid = new_call_sid()
    answer = signed_post(app, client, "/twilio/voice/inbound/", _form(sid))  # trailing slash too
    assert answer.status_code == 200 and twiml.has(answer.get_data(), "Dial")
    assert ran == []
    with app.app_context():
        assert db_session().scalar(select(Call.caller).where(Call.call_sid == sid)) == "+447700900123"


def test_13_lean_ring_hands_a_forged_ring_to_flask_which_refuses_it_403(app, client):
    sid = new_call_sid()
    answer = client.post("/twilio/voice/inbound", data=_form(sid), headers={"X-Twilio-Signature": "forged"})
    assert answer.status_code == 403
    with app.app_context():
        assert db_session().scalar(select(Call.id).where(Call.call_sid == sid)) is None


def test_13_ring_twiml_from_the_template_is_byte_for_byte_for_ring_c3():
    from app.twilio_hooks.voice import ring_twiml
    from call_flows.calls import twiml
    from call_flows.settings import OrgSettings

    settings, other = OrgSettings(), OrgSettings(greeting="Hello & welcome <again>")
    events = "https://callguard.example.org/twilio/voice/conference"
    for sid in ("CA" + "a" * 32, "CA&<odd>\"sid'", "CA" + "b" * 32):
        for s, e in ((settings, events), (other, events), (other, None)):
            assert ring_twiml(sid, s, e) == twiml.for_ring(sid, s, e)
    routing = {"kind": "written_only", "message": "Please write to us.", "end_call": True, "officer_id": None}
    assert ring_twiml("CA" + "c" * 32, settings, events, routing) == twiml.for_ring("CA" + "c" * 32, settings, events,
                                                                                   routing)


def test_13_lean_ring_hands_a_body_that_is_not_a_url_encoded_form_to_flask(app, client):
    """Twilio posts application/x-www-form-urlencoded; anything else gets Flask's answer, unchanged."""
    sid = new_call_sid()
    lean = app.wsgi_app
    answers = []
    for wsgi in (lean, lean.inner):
        app.wsgi_app = wsgi
        try:
            answers.append(client.post("/twilio/voice/inbound", json=_form(sid),
                                       headers={"X-Twilio-Signature": "whatever"}))
        finally:
            app.wsgi_app = lean
    assert answers[0].status_code == answers[1].status_code == 403  # no form: the signature cannot match
    with app.app_context():
        assert db_session().scalar(select(Call.id).where(Call.call_sid == sid)) is None


def test_13_lean_form_parse_gives_werkzeugs_pairs_for_any_body():
    """lean.parse_form is parse_qsl as werkzeug calls it, pair for pair: Twilio's fields, "+" and
    %-escapes, blank and bare names, empty fields, repeated names, bad escapes and invalid UTF-8."""
    import random
    from urllib.parse import parse_qsl, urlencode

    from app.twilio_hooks.lean import parse_form

    twilio = urlencode({"CallSid": "CA1", "From": "+447700900123", "To": "+44 1632 960000", "Caller": "client:ann & co"})
    bodies = [twilio, "", "&", "a", "a=", "=b", "a=1&a=2&&b", "a=%zz&b=%e2%82", "a%3Db=c%26d", "x=%C3%A9+%2B1", "+=+"]
    rng = random.Random(13)
    alphabet = "ab=&+%2Cé3F0"
    bodies += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 24))) for _ in range(3000)]
    for body in bodies:
        assert parse_form(body) == parse_qsl(body, keep_blank_values=True, errors="werkzeug.url_quote"), body


def test_13_ring_time_keeps_one_autocommit_connection_between_rings_and_never_a_failed_one():
    """app.db.KeptRingConnection on PostgreSQL: two rings in a row run on the same server connection,
    in autocommit; a ring that fails gives its connection back to the pool out of autocommit, and the
    next ring opens another; the engine's dispose closes the kept one."""
    import pytest
    from flask import Flask
    from sqlalchemy import create_engine

    from app.db import KeptRingConnection, ring_connection
    from tests.conftest import PG_URL

    engine = create_engine(PG_URL, pool_size=1, max_overflow=0)
    app = Flask(__name__)
    kept = app.extensions["ring_kept_connection"] = KeptRingConnection(engine)
    app.extensions["engine"] = engine

    def ring_backend():
        with app.app_context(), ring_connection() as conn:
            driver = conn.connection.driver_connection
            assert driver.autocommit
            return driver.execute("SELECT pg_backend_pid()").fetchone()[0]

    try:
        first = ring_backend()
        assert ring_backend() == first and kept._kept is not None
        with pytest.raises(RuntimeError), app.app_context(), ring_connection():
            raise RuntimeError("the ring failed")
        assert kept._kept is None
        with engine.connect() as pooled:  # the pool's only connection: back, out of autocommit
            assert not pooled.connection.driver_connection.autocommit
        ring_backend()
        assert kept._kept is not None
    finally:
        engine.dispose()
    assert kept._kept is None


def test_13_first_ring_after_postgresql_cut_every_connection_is_stored_on_a_fresh_one_r1():
    """PostgreSQL restarted (here: every backend of the app terminated): the kept ring connection and
    the pooled ones are all dead. The first ring is tried once more on a fresh connection (a ring is
    recorded once per CallSid), so its call is stored and its flags read, not answered blind."""
    from sqlalchemy import create_engine, select, text

    from app import create_app
    from app.db import db_session
    from app.simulator import new_call_sid, signed_post
    from call_flows.models import Call
    from tests.conftest import PG_URL
    from tests.faults.shape import fresh_database
    from tests.per_worker import scratch_db

    url = fresh_database(PG_URL, scratch_db(PG_URL, "ring_dead"))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "REDIS_URL": None, "TESTING": True,
                      "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "PUBLIC_BASE_URL": None})
    client = app.test_client()

    def ring() -> str:
        sid = new_call_sid()
        answer = signed_post(app, client, "/twilio/voice/inbound",
                             {"CallSid": sid, "From": "+447700900123", "To": "+441632960000", "CallStatus": "ringing"})
        assert answer.status_code == 200
        return sid

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        ring()
        with admin.connect() as conn:  # every other backend on the database: the app's kept and pooled ones
            cut = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        assert cut >= 1
        sid = ring()
        with app.app_context():
            assert db_session().scalar(select(Call.status).where(Call.call_sid == sid)) == "ringing"
    finally:
        admin.dispose()
        app.extensions["engine"].dispose()
