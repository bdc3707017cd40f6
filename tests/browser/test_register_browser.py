"""A review panel member's decision path in a real browser (R3, R5), with axe on each page."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_serious, sign_in


def test_panel_member_decides_sends_the_letter_and_the_entry_takes_effect(page, live, live_staff):
    manager = live_staff.add("manager", "line_manager", team="Passports North")
    members = [live_staff.add(f"panel{i}", "panel_member") for i in (1, 2, 3)]
    client = live.app.test_client()
    proposed = client.post("/api/v1/register/proposals", headers=manager["headers"], json={
        "name": "Alex Example", "summary": "Threatened an adviser by phone", "phones": ["07700 900123"],
        "address": "1 High Street, Market Town", "source": "partner", "reporting_service": "Housing partner"})
    assert proposed.status_code == 201, proposed.get_json()
    entry_id = proposed.get_json()["id"]

    sign_in(page, live, "panel1")
    assert page.url.endswith("/register")
    expect(page.get_by_role("heading", name="Proposals awaiting the panel (R3)")).to_be_visible()
    assert axe_serious(page) == []
    page.get_by_role("link", name=f"Entry {entry_id}: decide").click()
    expect(page.get_by_role("heading", name=re.compile("Record the panel"))).to_be_visible()
    assert axe_serious(page) == []

    page.get_by_label("panel1").check()
    page.get_by_label("panel2").check()
    page.get_by_label("Chair").select_option(label="panel1")
    page.get_by_label("Add to the register").check()
    page.get_by_label("Justification (documented, factual)").fill("Threats of violence recorded by the partner")
    page.get_by_label("Marker (R2)").select_option("2")
    page.get_by_label("Recommended precautions").fill("Two officers; appointment only")
    page.get_by_label("Letter signed by").fill("Pat Chair")
    page.get_by_role("button", name="Record decision").click()
    assert "at least 3 members present" in page.get_by_role("alert").inner_text()  # a quorum of 2 is refused

    page.get_by_label("panel1").check()
    page.get_by_label("panel2").check()
    page.get_by_label("panel3").check()
    page.get_by_label("Chair").select_option(label="panel1")
    page.get_by_label("Add to the register").check()
    page.get_by_label("Justification (documented, factual)").fill("Threats of violence recorded by the partner")
    page.get_by_label("Marker (R2)").select_option("2")
    page.get_by_label("Recommended precautions").fill("Two officers; appointment only")
    page.get_by_label("Letter signed by").fill("Pat Chair")
    button = page.get_by_role("button", name="Record decision")
    button.focus()
    page.keyboard.press("Enter")  # keyboard works as well as the mouse
    assert "awaiting notice" in page.get_by_role("status").inner_text()
    assert axe_serious(page) == []

    page.get_by_role("link", name="Open the printable letter").click()
    letter = page.get_by_role("article", name="Letter").inner_text()
    assert "Two officers; appointment only" in letter and "Pat Chair" in letter and "right to appeal" in letter
    assert axe_serious(page) == []
    page.get_by_role("link", name="Back to the entry").click()
    page.get_by_role("button", name="Record letter sent: entry takes effect").click()
    assert "now in force" in page.get_by_role("status").inner_text()
    expect(page.get_by_text("In force", exact=True)).to_be_visible()
    assert axe_serious(page) == []

    flags = client.get("/api/v1/callers/+447700900123", headers=members[0]["headers"]).get_json()
    assert flags["register"]["marker"] == 2
