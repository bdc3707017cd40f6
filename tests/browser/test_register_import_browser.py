"""An administrator imports the caution register from CSV in the browser (CONTRACT `register import`):
per-line errors, then a good file with its progress to 100% and the count; keyboard only; axe clean."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from playwright.sync_api import expect
from app.db import db_session
from call_flows.register import import_run as register_import_run
from call_flows.models import OutboxJob
from tests.browser.conftest import axe_serious, sign_in

HEADER = "name,phones,marker,precautions,added_on,last_reviewed_on,source,notified\n"
RECENT = (datetime.now(timezone.utc).date() - timedelta(days=15)).strftime("%d/%m/%Y")
GOOD = (HEADER + f"Alan Example,07700 900123; (020) 7946 0000,1,two officers,{RECENT},,own,yes\n"
        + f"Alan Example,+44 20 7946 0000,2,appointment only,{RECENT},,own,yes\n"
        + f"Bee,+447700900124,3,written contact only,{RECENT},,partner,no\n")
BAD = (HEADER + f"Fine,07700900131,2,,{RECENT},,own,yes\n"
       + f"Wrong marker,07700900132,7,,{RECENT},,own,yes\n"
       + "Wrong date,07700900133,2,,2026-13-01,,own,yes\n")


def csv_file(name, text):
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def test_admin_sees_bad_rows_by_line_then_imports_a_good_file_by_keyboard(page, live, live_staff):
    live_staff.add("admin", "admin")
    sign_in(page, live, "admin")
    page.goto(f"{live.url}/admin/register/import")
    expect(page.get_by_role("heading", name="Import the caution register")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Register import")).to_be_visible()
    assert axe_serious(page) == []

    page.get_by_label("CSV file").set_input_files(csv_file("bad.csv", BAD))
    page.get_by_role("button", name="Check and import").click()
    page.get_by_role("heading", name="Nothing was stored: 2 rows need fixing").wait_for()
    errors = page.locator("ol.row-errors li").all_inner_texts()
    assert errors == ["line 3: marker must be 1, 2 or 3 (R2), not '7'",
                      "line 4: added_on '2026-13-01' is not a date (write 2026-03-01 or 01/03/2026)"]
    assert axe_serious(page) == []

    # Keyboard: the file field, the dry-run box and the button are reached with Tab and sent with Enter.
    # (The operating system's file dialog is the browser's, so the file itself is set directly.)
    page.get_by_role("link", name="Import another file").click()
    page.get_by_label("CSV file").focus()
    page.get_by_label("CSV file").set_input_files(csv_file("good.csv", GOOD))
    assert page.evaluate("document.activeElement.id") == "file"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "dry_run"  # left unticked
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Check and import"
    page.keyboard.press("Enter")
    outcome = page.locator("#import-outcome")
    outcome.wait_for()
    assert "Stored 3 entries and 3 numbers (2 new customers)." in outcome.inner_text()
    assert page.get_by_label("Progress").get_attribute("value") == "100"
    assert page.locator("#import-percent").inner_text() == "100%"
    assert axe_serious(page) == []

    page.goto(f"{live.url}/admin/register/import")
    assert "stored: 3 entries, 3 numbers" in page.locator("table.runs").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the entries in force (CSV)").click()
    assert download.value.suggested_filename.startswith("callguard-register-")


def test_the_progress_bar_follows_a_run_that_finishes_later(page, live, live_staff):
    """With RQ the upload answers before the job runs; the page polls until 100% and shows the count."""
    admin = live_staff.add("admin", "admin")
    with live.app.app_context():
        session = db_session()
        run = register_import_run.start(session, "later.csv", GOOD.encode(), admin["id"], "GB",
                                        datetime.now(timezone.utc))
        session.commit()
        run_id = run.id
        job_id = session.scalar(select(OutboxJob.id).where(OutboxJob.key == f"register-import-{run_id}"))
    sign_in(page, live, "admin")
    page.goto(f"{live.url}/admin/register/import/{run_id}")
    assert page.get_by_role("status").inner_text() == "Waiting to start…"
    assert page.get_by_label("Progress").get_attribute("value") == "0"
    assert axe_serious(page) == []
    assert live.app.extensions["handover"].run_inline(job_id) == "done"
    page.locator("#import-outcome").wait_for(timeout=10_000)  # the poll saw `finished` and reloaded
    assert page.locator("#import-percent").inner_text() == "100%"
    assert "Stored 3 entries and 3 numbers" in page.locator("#import-outcome").inner_text()
