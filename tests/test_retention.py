"""R9 "kept no longer than necessary": calls, warnings, terminations, case notes, callback tasks,
webhook receipts, platform actions, mail and import runs are purged after their retention periods.

Records are made through the real webhooks and API; the purge is then run with `now` passed in,
days or years later. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from app.db import db_session
from app.simulator import signed_post
from call_flows.incidents import trends
from call_flows.clock import utcnow
from call_flows.incidents.records import summary
from call_flows.phone import mask
from call_flows.models import (Call, CallbackTask, CallWarning, CaseNote, EmailDelivery, Incident, PlatformAction,
                              RegisterImportRun, Termination, WebhookReceipt)
from tests.callback_helpers import mail_app, post, terminated_call  # noqa: F401  (mail_app is a fixture)
from tests.conftest import Staff
from workers.context import use
from workers.retention_jobs import retention_purge

CALLER = "+447700900123"
QUIET = "+447700900456"


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _setup(app, client):
    """A terminated call (warning, termination, case note, incident, open callback task, emails),
    a quiet call nobody took, and a status callback (a webhook receipt)."""
    staff = Staff(app)
    manager = staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = staff.add("handler", "call_handler", manager="manager", team="Passports North")
    ended = terminated_call(app, client, handler, from_=CALLER)
    signed_post(app, client, "/twilio/voice/inbound",
                {"CallSid": "CA" + "9" * 32, "From": QUIET, "To": "+441632960000", "CallStatus": "ringing"})
    signed_post(app, client, "/twilio/voice/status", {"CallSid": "CA" + "9" * 32, "CallStatus": "completed",
                                                      "CallDuration": "30"},
                headers={"I-Twilio-Idempotency-Token": "tok-1"})
    return {**ended, "manager": manager}


def _events(session):
    found = trends.events(session, utcnow() - timedelta(days=30))
    return Counter((e.kind, e.reason, e.team) for e in found)


def test_r9_purge_reduces_old_calls_and_keeps_incident_records_masked_i6(mail_app, tmp_path):
    app, client = mail_app, mail_app.test_client()
    ended = _setup(app, client)
    outbox = tmp_path / "outbox"
    with app.app_context():
        s = db_session()
        before = _events(s)
        assert _count(s, WebhookReceipt) and _count(s, PlatformAction) and _count(s, EmailDelivery, EmailDelivery.status == "sent")
    assert list(outbox.glob("*.eml"))

    result = retention_purge(app.extensions["handover"], utcnow() + timedelta(days=366))

    assert result["calls_deleted"] == 1 and result["calls_reduced"] == 1
    assert not list(outbox.glob("*.eml")) and result["mail_files"] > 0
    with app.app_context():
        s = db_session()
        assert _count(s, Call, Call.caller == QUIET) == 0 and _count(s, Call, Call.caller_raw == QUIET) == 0
        call = s.scalar(select(Call).where(Call.call_sid == ended["call_sid"]))
        assert call.caller is None and call.caller_raw == mask(CALLER) and call.purged_at is not None
        warning = s.scalar(select(CallWarning))
        assert warning.caller is None and warning.detail is None and warning.reason == "abuse"
        assert s.get(Termination, ended["id"]).caller is None
        incident = s.get(Incident, ended["incident_id"])  # I6: the record stays, the number masked
        assert f"Caller: {mask(CALLER)}" in summary(s, incident) and CALLER not in summary(s, incident)
        assert _count(s, WebhookReceipt) == 0 and _count(s, PlatformAction) == 0
        assert s.scalars(select(EmailDelivery.body).where(EmailDelivery.status == "sent")).all() == [""] * _count(
            s, EmailDelivery, EmailDelivery.status == "sent")
        assert _events(s) == before  # I8: trends count exactly what they counted before
        assert s.get(CaseNote, ended["case_note_id"]) is not None  # case notes last 3 years
        task = s.get(CallbackTask, ended["callback_task_id"])
        assert task.status == "open" and task.caller == CALLER  # an open task is still being worked
    again = retention_purge(app.extensions["handover"], utcnow() + timedelta(days=366))
    assert not any(again.values())  # idempotent


def test_r9_nothing_is_purged_before_its_period(mail_app):
    app, client = mail_app, mail_app.test_client()
    ended = _setup(app, client)
    result = retention_purge(app.extensions["handover"], utcnow() + timedelta(days=31))
    assert result["webhook_receipts"] and result["platform_actions"] and result["email_bodies"]
    assert not result["calls_deleted"] and not result["calls_reduced"]
    assert not result["warnings"] and not result["terminations"] and not result["case_notes"]
    with app.app_context():
        s = db_session()
        assert _count(s, Call, Call.caller.in_([CALLER, QUIET])) == 2
        assert s.get(Termination, ended["id"]).caller == CALLER
        assert s.scalar(select(CallWarning.detail)) == "shouting"


def test_r10_caller_numbers_stay_while_the_signal_window_can_see_them(mail_app):
    app, client = mail_app, mail_app.test_client()
    _setup(app, client)
    admin = Staff(app).add("admin", "admin")
    for key in ("retention_calls_days", "retention_warnings_days", "retention_terminations_days"):
        assert client.put(f"/api/v1/settings/{key}", headers=admin["headers"], json={"value": 10}).status_code == 200
    # past 10 days, inside the 90-day window
    early = retention_purge(app.extensions["handover"], utcnow() + timedelta(days=30))
    assert not early["warnings"] and not early["terminations"] and not early["calls_reduced"]
    late = retention_purge(app.extensions["handover"], utcnow() + timedelta(days=91))
    assert late["warnings"] == 1 and late["terminations"] == 1 and late["calls_reduced"] == 1


def test_r9_retention_periods_are_organisation_settings(mail_app):
    app, client = mail_app, mail_app.test_client()
    _setup(app, client)
    admin = Staff(app).add("admin", "admin")
    assert client.put("/api/v1/settings/retention_calls_days", headers=admin["headers"],
                      json={"value": 120}).status_code == 200
    assert not retention_purge(app.extensions["handover"], utcnow() + timedelta(days=119))["calls_deleted"]
    assert retention_purge(app.extensions["handover"], utcnow() + timedelta(days=121))["calls_deleted"] == 1


def test_r9_case_notes_go_after_three_years_and_closed_tasks_are_reduced(mail_app):
    app, client = mail_app, mail_app.test_client()
    ended = _setup(app, client)
    manager = ended["manager"]
    cancelled = post(client, f"/callbacks/{ended['callback_task_id']}/cancel", manager,
                     {"reason": "Customer phoned Mr Smith on 07700 900123 instead"})
    assert cancelled.status_code == 200, cancelled.get_json()

    year = retention_purge(app.extensions["handover"], utcnow() + timedelta(days=366))
    assert year["callback_tasks"] == 1 and not year["case_notes"]
    with app.app_context():
        task = db_session().get(CallbackTask, ended["callback_task_id"])
        assert task.caller is None and task.cancel_reason is None and task.closed_at is not None  # T5 trends keep times

    later = retention_purge(app.extensions["handover"], utcnow() + timedelta(days=1096))
    assert later["case_notes"] == 1
    with app.app_context():
        s = db_session()
        assert _count(s, CaseNote) == 0
        assert s.get(Termination, ended["id"]).case_note_id is None
        assert s.get(Incident, ended["incident_id"]) is not None  # I6
        # no note left: the case reads as one with no notes, a 404 like any unknown case (R9, 10.1)
        assert client.get("/api/v1/cases/PP-123/notes", headers=manager["headers"]).status_code == 404


def test_r9_register_import_runs_lose_their_error_text(mail_app):
    app = mail_app
    now = utcnow()
    with app.app_context():
        s = db_session()
        s.add(RegisterImportRun(filename="register.csv", status="rejected", rows=3, errors=[[4, "phones: '07700 900123, "
                                "07700 900124' is not a phone number"]], notes=[[2, "merged"]], csv_text=None,
                                created_at=now, finished_at=now))
        s.commit()
    assert not retention_purge(app.extensions["handover"], now + timedelta(days=29))["import_runs"]
    assert retention_purge(app.extensions["handover"], now + timedelta(days=31))["import_runs"] == 1
    with app.app_context():
        run = db_session().scalar(select(RegisterImportRun))
        assert run.errors == [] and run.notes == [] and run.rows == 3 and run.status == "rejected"


def test_r9_the_periodic_tick_runs_the_retention_purge(mail_app):
    from workers.jobs import tick

    app, client = mail_app, mail_app.test_client()
    _setup(app, client)
    use(app.extensions["handover"])
    try:
        results = tick(utcnow() + timedelta(days=366))
    finally:
        use(None)
    assert results["retention_purge"]["calls_deleted"] == 1
