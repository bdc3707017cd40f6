"""The admin import page and the CSV download (CONTRACT `register import`/`export`; R9 audit and least data)."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.db import db_session
from call_flows.register import import_run as register_import_run
from call_flows.models import AuditLog, CustomerPhone, OutboxJob, RegisterEntry
from call_flows.models.imports import RegisterImportRun
from call_flows.register import import_run as register_import_run
from tests.conftest import FROZEN_AT

HEADER = "name,phones,marker,precautions,added_on,last_reviewed_on,source,notified\n"
# RECENT and the service agree on today; PostgreSQL imports write progress on their own connection
# (call_flows/register/import_run.py), so these tests commit for real (tests/conftest.py `real_commits`)
pytestmark = [pytest.mark.usefixtures("frozen_clock"), pytest.mark.real_commits]
RECENT = (FROZEN_AT.date() - timedelta(days=20)).isoformat()
GOOD = (HEADER + f"Alan Example,07700 900123; 020 7946 0000,1,two officers,{RECENT},,own,yes\n"
        + f"Alan Again,+44 20 7946 0000,1,two officers,{RECENT},,own,yes\n"
        + f"Bee,+447700900124,3,=cmd|' /C calc'!A0,{RECENT},,partner,no\n")
BAD = (HEADER + f"Fine,07700900131,2,,{RECENT},,own,yes\n"
       + f"<script>alert(1)</script>,<b>not a number</b>,5,,{RECENT},,own,yes\n"
       + "Late,07700900133,2,,30/02/2026,,own,yes\n")


def upload(client, headers, text, name="register.csv", **form):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name), **form}
    return client.post("/admin/register/import", data=data, headers=headers, content_type="multipart/form-data")


def stored(app):
    with app.app_context():
        s = db_session()
        return (s.scalar(select(func.count()).select_from(RegisterEntry)),
                s.scalar(select(func.count()).select_from(CustomerPhone)))


def test_only_admins_import_and_signed_out_visitors_are_sent_to_sign_in(client, staff):
    admin, handler, panel = (staff.add("admin", "admin"), staff.add("handler", "call_handler"),
                             staff.add("panel", "panel_member"))
    page = client.get("/admin/register/import", headers=admin["headers"])
    assert page.status_code == 200
    assert b"name,phones,marker,precautions,added_on,last_reviewed_on,source,notified" in page.data
    assert client.get("/admin/register/import", headers=handler["headers"]).status_code == 403
    assert client.get("/admin/register/import", headers=panel["headers"]).status_code == 403
    assert upload(client, handler["headers"], GOOD).status_code == 403
    signed_out = client.get("/admin/register/import")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]


def test_a_good_file_is_stored_and_the_run_reaches_100_percent(app, client, staff):
    admin = staff.add("admin", "admin")
    response = upload(client, admin["headers"], GOOD)
    assert response.status_code == 303
    run_page = client.get(response.headers["Location"], headers=admin["headers"])
    text = run_page.get_data(as_text=True)
    assert "Stored 2 entries and 3 numbers (2 new customers)." in text
    assert "line 2: merged with line(s) 3 (a shared number)" in text
    assert 'value="100"' in text
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    state = client.get(f"/admin/register/import/{run_id}/progress", headers=admin["headers"]).get_json()
    assert state == {"id": run_id, "status": "done", "percent": 100, "finished": True, "dry_run": False,
                     "rows": 3, "entries": 2, "numbers": 3, "errors": 0}
    assert stored(app) == (2, 3)
    with app.app_context():
        s = db_session()
        assert s.get(RegisterImportRun, run_id).csv_text is None  # R9: the upload is not kept
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "create")).all()
        assert len(audits) == 2 and {a.actor_id for a in audits} == {admin["id"]}
        assert all(a.detail["via"] == "import" and a.detail["run"] == run_id for a in audits)


def test_bad_rows_are_listed_by_line_escaped_and_nothing_is_stored(app, client, staff):
    admin = staff.add("admin", "admin")
    response = upload(client, admin["headers"], BAD)
    text = client.get(response.headers["Location"], headers=admin["headers"]).get_data(as_text=True)
    assert "Nothing was stored: 2 rows need fixing" in text
    assert "line 3: phones: &#39;&lt;b&gt;not a number&lt;/b&gt;&#39; is not a phone number" in text
    assert "marker must be 1, 2 or 3 (R2), not &#39;5&#39;" in text
    assert "line 4: added_on &#39;30/02/2026&#39; is not a date" in text
    assert "<script>" not in text.split("<main", 1)[1].replace('<script src="/static/register_import.js"', "")
    assert "line 2:" not in text
    assert stored(app) == (0, 0)


def test_a_dry_run_from_the_page_counts_but_stores_nothing(app, client, staff):
    admin = staff.add("admin", "admin")
    response = upload(client, admin["headers"], GOOD, dry_run="yes")
    text = client.get(response.headers["Location"], headers=admin["headers"]).get_data(as_text=True)
    assert "Dry run: would store 2 entries and 3 numbers" in text and "Nothing was stored." in text
    assert stored(app) == (0, 0)


def test_an_empty_or_missing_file_is_refused_on_the_form(client, staff):
    admin = staff.add("admin", "admin")
    missing = client.post("/admin/register/import", data={}, headers=admin["headers"],
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and b"Choose a CSV file to import." in missing.data
    empty = upload(client, admin["headers"], "")
    assert empty.status_code == 400 and b"The file is empty" in empty.data


def test_progress_is_polled_while_the_job_waits_and_the_job_runs_once(app, client, staff):
    """With RQ the upload answers before the job runs: the page polls `queued`, then the result."""
    admin = staff.add("admin", "admin")
    with app.app_context():
        s = db_session()
        run = register_import_run.start(s, "later.csv", GOOD.encode(), admin["id"], "GB", datetime.now(timezone.utc))
        s.commit()
        run_id = run.id
        job_id = s.scalar(select(OutboxJob.id).where(OutboxJob.key == f"register-import-{run_id}"))
    waiting = client.get(f"/admin/register/import/{run_id}/progress", headers=admin["headers"]).get_json()
    assert waiting["status"] == "queued" and waiting["percent"] == 0 and waiting["finished"] is False
    page = client.get(f"/admin/register/import/{run_id}", headers=admin["headers"]).get_data(as_text=True)
    assert 'data-finished="no"' in page and "Waiting to start" in page
    assert app.extensions["handover"].run_inline(job_id) == "done"
    assert app.extensions["handover"].run_inline(job_id) == "done"  # a repeated hand-over stores nothing twice
    done = client.get(f"/admin/register/import/{run_id}/progress", headers=admin["headers"]).get_json()
    assert done["status"] == "done" and done["percent"] == 100 and done["entries"] == 2
    assert stored(app) == (2, 3)


def test_export_download_for_admin_and_panel_is_guarded_and_audited(app, client, staff):
    admin, panel, handler = (staff.add("admin", "admin"), staff.add("panel", "panel_member"),
                             staff.add("handler", "call_handler"))
    upload(client, admin["headers"], GOOD)
    response = client.get("/admin/register/export.csv", headers=panel["headers"])
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="callguard-register-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "name" and len(rows) == 3
    assert rows[2][:4] == ["Bee", "'+447700900124", "3", "'=cmd|' /C calc'!A0"]
    assert client.get("/admin/register/export.csv", headers=admin["headers"]).status_code == 200
    assert client.get("/admin/register/export.csv", headers=handler["headers"]).status_code == 403
    with app.app_context():
        views = db_session().scalars(select(AuditLog).where(AuditLog.action == "view")).all()
    assert sorted(v.actor_id for v in views) == sorted([panel["id"]] * 2 + [admin["id"]] * 2)


def test_an_oversized_upload_is_refused_before_it_is_read(client, staff, monkeypatch):
    admin = staff.add("admin", "admin")
    monkeypatch.setattr(register_import_run, "MAX_BYTES", 1000)
    response = upload(client, admin["headers"], HEADER + "x" * 70_000)
    assert response.status_code == 413 and b"The file is larger than" in response.data


def test_progress_is_visible_to_other_connections_while_the_import_is_open(app):
    """PostgreSQL: progress is written on its own connection, outside the import's open transaction.
    SQLite allows one writer at a time, so there progress is recorded only when the run ends."""
    with app.app_context():
        s = db_session()
        run = register_import_run.start(s, "x.csv", GOOD.encode(), None, "GB", datetime.now(timezone.utc))
        s.commit()
        run_id = run.id
        s.execute(select(RegisterImportRun.id)).all()  # the import's session, mid-transaction
        register_import_run._progress_writer(s, run_id)("storing", 75)
        with app.extensions["engine"].connect() as other:
            seen = other.execute(select(RegisterImportRun.status, RegisterImportRun.percent)
                                 .where(RegisterImportRun.id == run_id)).one()
        s.rollback()
    if app.extensions["engine"].dialect.name == "postgresql":
        assert tuple(seen) == ("storing", 75)
    else:
        assert tuple(seen) == ("queued", 0)
