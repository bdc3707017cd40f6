"""Issue 9.6 in the browser: a warning for a caller who has already hung up is tried once (Twilio
answers 21220) and the handler's console says the caller had already gone."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_console_board_browser import people, ring_live, twiml_updates


def test_t1_console_says_the_caller_had_already_gone(page, live, live_staff, stand_in_twilio):
    people(live_staff)
    sid = ring_live(live, "+447700900123")
    sign_in(page, live, "handler")
    expect(page).to_have_url(f"{live.url}/console")
    expect(page.locator("#ringing .accept")).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator("#call-caller")).to_have_text("+447700900123")
    stand_in_twilio.hang_up(sid)  # the caller hangs up; Twilio's status callback has not come yet

    page.locator("#warn").click()  # with the mouse this time (the keyboard path is in test_console_board_browser)
    expect(page.locator("#warn-dialog")).to_be_visible()
    page.locator("#warn-reason").select_option("intimidating_language")
    page.locator("#warn-detail").fill("Shouting")
    page.get_by_role("button", name="Play the warning").click()
    expect(page.locator("#feedback")).to_contain_text("the caller had already gone")
    expect(page.locator("#call-warnings")).to_contain_text("the caller had already gone: nothing was played")
    assert len(twiml_updates(stand_in_twilio, sid)) == 1  # one try, no retries
