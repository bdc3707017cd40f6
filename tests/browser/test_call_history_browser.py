"""Issue 14.1 in a real browser: a line manager searches the call history (by a number written any
way, by case reference) and opens a call's timeline; axe finds no serious violations on either page.
The README's picture of the timeline (docs/img/timeline.png) is written with UPDATE_DOCS_SCREENSHOTS=1."""
from playwright.sync_api import expect

from app.simulator import signed_post
from tests.browser.conftest import axe_serious, docs_screenshot, sign_in
from tests.callback_helpers import post, terminated_call
from tests.page_helpers import add_marker


def test_manager_searches_history_and_reads_a_calls_timeline(page, live, live_staff):
    live_staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = live_staff.add("handler", "call_handler", manager="manager", team="Passports North")
    client = live.app.test_client()
    add_marker(live.app, "+447700900123", marker=2)
    ended = terminated_call(live.app, client, handler, case_reference="PP-123")
    terminated_call(live.app, client, handler, from_="+447700900456", case_reference="PP-456")
    signed_post(live.app, client, "/twilio/voice/status", {"CallSid": ended["call_sid"], "CallStatus": "completed",
                                                           "CallDuration": "95"})

    sign_in(page, live, "manager")
    page.get_by_role("link", name="Calls").click()
    expect(page.get_by_role("heading", name="Call history")).to_be_visible()
    expect(page.locator("table.calls tbody tr")).to_have_count(2)
    assert axe_serious(page) == []

    page.get_by_label("Phone number").fill("07700 900123")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.calls tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+447700900123")
    expect(rows.first).to_contain_text("Marker 2")

    page.get_by_label("Phone number").fill("")
    page.get_by_label("Case reference").fill("PP-456")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+447700900456")

    page.get_by_label("Phone number").fill("not a number")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("is not a phone number")

    page.goto(f"{live.url}/calls?phone=%2B447700900123")
    page.locator("table.calls tbody tr").first.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Call {ended['call_sid']}")).to_be_visible()
    steps = page.locator("ol.timeline > li h2")
    titles = steps.all_inner_texts()
    assert titles[0] == "Rang from +447700900123" and "Answered by handler" in titles
    assert "Warning given: abuse" in titles and "Call ended for behaviour: abuse" in titles
    expect(page.locator("ol.timeline")).to_contain_text("Register marker 2")
    expect(page.get_by_role("link", name=f"Incident record {ended['incident_id']} opened")).to_be_visible()
    assert axe_serious(page) == []
    docs_screenshot(page, "timeline.png")  # the README's picture; refreshed on request only


def test_timeline_shows_the_callbacks_attempts_and_outcome(page, live, live_staff):
    manager = live_staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = live_staff.add("handler", "call_handler", manager="manager", team="Passports North")
    client = live.app.test_client()
    ended = terminated_call(live.app, client, handler)
    tid = ended["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", manager)
    assert post(client, f"/callbacks/{tid}/dial", manager).status_code == 202  # 14.8: no_answer needs a dial attempt
    assert post(client, f"/callbacks/{tid}/outcome", manager, {"outcome": "no_answer"}).status_code == 200

    sign_in(page, live, "manager")
    page.goto(f"{live.url}/calls/{ended['call_sid']}")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text(f"Callback task {tid} queued for the line manager")
    expect(timeline).to_contain_text("Attempts: 1")
    expect(timeline).to_contain_text("Callback case note (attempt 1)")
    assert axe_serious(page) == []
