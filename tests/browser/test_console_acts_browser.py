"""Browser tests for issue 9 (items 1 and 2): what the handler sees in the Terminate dialog is what is
sent and what the caller will hear. A hidden control is really hidden (T3: no "Immediate termination"
box on an ordinary Terminate), an immediate termination typed in the right box reaches the record
(I7), a refusal keeps the dialog and what was typed, and the dialog previews the final notice that
will really be played (T3)."""
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.models import Incident, Termination
from tests.browser.conftest import axe_serious, sign_in
from tests.browser.test_console_board_browser import people, ring_live, twiml_updates
from tests.callback_helpers import terminated_call

WARNED = org_settings.DEFAULTS["termination_message"]
IMMEDIATE = org_settings.DEFAULTS["immediate_termination_message"]
SHOWN_THOUGH_HIDDEN = """() => Array.from(document.querySelectorAll('[hidden]'))
    .filter(e => getComputedStyle(e).display !== 'none').map(e => e.id || e.outerHTML.slice(0, 80))"""


def _accept(page, live, caller):
    """The handler signed in on the console and the call from `caller` connected to them."""
    sign_in(page, live, "handler")
    sid = ring_live(live, caller)
    expect(page.locator("#ringing")).to_contain_text(caller[-4:])
    page.keyboard.press("a")
    expect(page.locator("#call-caller")).to_have_text(caller)
    return sid


def _accept_and_warn(page, live, caller):
    sid = _accept(page, live, caller)
    page.keyboard.press("w")
    page.get_by_role("button", name="Play the warning").click()
    expect(page.locator("#feedback")).to_contain_text("the caller has heard it")
    expect(page.locator("#terminate")).to_be_enabled()  # the console has the warning (T3)
    return sid


def test_t3_terminate_after_a_warning_has_no_hidden_immediate_box_and_immediate_reaches_i7(page, live, live_staff,
                                                                                           stand_in_twilio):
    people(live_staff)
    sid = _accept_and_warn(page, live, "+447700900321")

    page.keyboard.press("t")  # ordinary Terminate, after the warning
    dialog = page.locator("#end-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#immediate-fields")).to_be_hidden()
    expect(page.locator("#end-immediate")).to_be_disabled()
    expect(page.locator("#end-reason")).to_be_focused()  # focus in the first control the handler can see
    expect(page.locator("#end-notice")).to_have_text(WARNED)
    assert page.evaluate(SHOWN_THOUGH_HIDDEN) == []
    assert axe_serious(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()  # closed before the next shortcut (a key pressed into an open dialog is typing)

    page.keyboard.press("i")  # the threat belongs in Immediate termination, where it is sent
    expect(page.locator("#immediate-fields")).to_be_visible()
    expect(page.locator("#end-immediate")).to_be_focused()
    expect(page.locator("#end-title")).to_have_text("Immediate termination")
    expect(page.locator("#end-notice")).to_have_text(WARNED)  # the caller was warned, and is told so
    page.locator("#end-immediate").select_option("threat_of_violence")
    page.locator("#end-immediate-detail").fill("Said he would wait outside the office")
    page.locator("#end-reason").select_option("threats")
    page.get_by_role("button", name="End the call").click()
    expect(page.locator("#feedback")).to_contain_text("the caller heard the final notice")
    assert WARNED in twiml_updates(stand_in_twilio, sid)[-1]
    with live.app.app_context():
        session = db_session()
        termination = session.scalar(select(Termination))
        assert termination.immediate_reason == "threat_of_violence"
        assert termination.immediate_detail == "Said he would wait outside the office"
        assert session.get(Incident, termination.incident_id).serious  # I7: escalated as serious


def test_t3_a_refused_termination_keeps_the_dialog_and_what_was_typed(page, live, live_staff):
    people(live_staff)
    sid = _accept(page, live, "+447700900322")
    page.keyboard.press("i")
    page.locator("#end-immediate").select_option("other_serious")  # needs a detail: left out on purpose
    page.locator("#end-spoke").fill("Mr Example")
    page.locator("#end-said").fill("Threatened to damage the office")
    page.get_by_role("button", name="End the call").click()
    alert = page.locator("#end-dialog [data-error]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("immediate_detail")
    expect(page.locator("#end-dialog")).to_be_visible()
    expect(page.locator("#end-spoke")).to_have_value("Mr Example")
    page.keyboard.press("Escape")
    expect(page.locator("#end-dialog")).to_be_hidden()
    page.keyboard.press("i")  # reopening keeps the handler's own words over the pre-fill
    expect(page.locator("#end-said")).to_have_value("Threatened to damage the office")
    expect(page.locator("#end-spoke")).to_have_value("Mr Example")
    page.locator("#end-immediate-detail").fill("Said he would smash the windows")
    page.get_by_role("button", name="End the call").click()
    expect(page.locator("#feedback")).to_contain_text("the caller heard the final notice")
    with live.app.app_context():
        termination = db_session().scalar(select(Termination))
        assert termination.immediate_detail == "Said he would smash the windows"
        assert termination.case_reference == f"CALL-{sid}"  # the pre-filled reference, kept


def test_t3_immediate_termination_previews_its_own_notice_or_says_it_is_a_recording(page, live, live_staff,
                                                                                    stand_in_twilio):
    people(live_staff)
    sid = _accept(page, live, "+447700900323")
    page.keyboard.press("i")
    expect(page.locator("#end-notice-intro")).to_have_text("The caller will hear:")
    expect(page.locator("#end-notice")).to_have_text(IMMEDIATE)
    expect(page.locator("#end-dialog")).not_to_contain_text("You were warned")
    page.keyboard.press("Escape")

    with live.app.app_context():
        session = db_session()
        org_settings.save(session, "immediate_termination_recording_url", "https://example.org/ending.mp3")
        session.commit()
    page.reload()
    expect(page.locator("#call-caller")).to_have_text("+447700900323")
    page.keyboard.press("i")
    expect(page.locator("#end-notice-intro")).to_contain_text("recorded notice")
    page.locator("#end-immediate").select_option("threat_of_violence")
    page.get_by_role("button", name="End the call").click()
    expect(page.locator("#feedback")).to_contain_text("the caller heard the final notice")
    assert "<Play>https://example.org/ending.mp3</Play>" in twiml_updates(stand_in_twilio, sid)[-1]


def test_hidden_elements_are_really_hidden_on_every_page(page, browser, live, live_staff):
    """`hidden` wins over any display rule, on every page each role opens."""
    live_staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = live_staff.add("handler", "call_handler", manager="manager", team="Passports North")
    live_staff.add("supervisor", "supervisor", team="Passports North")
    live_staff.add("admin", "admin")
    live_staff.add("panel", "panel_member")
    made = terminated_call(live.app, live.app.test_client(), handler)
    pages = {"handler": ["/console", f"/incidents/{made['incident_id']}", "/incidents"],
             "manager": ["/callbacks", f"/incidents/{made['incident_id']}", "/trends", "/register"],
             "supervisor": ["/board", "/incidents"], "admin": ["/admin/register/import", "/register"],
             "panel": ["/register"]}
    for who, paths in pages.items():
        context = browser.new_context()
        tab = context.new_page()
        try:
            sign_in(tab, live, who)
            for path in paths:
                response = tab.goto(live.url + path)
                assert response.status == 200, (who, path)
                assert tab.evaluate(SHOWN_THOUGH_HIDDEN) == [], (who, path)
        finally:
            context.close()
