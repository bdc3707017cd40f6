"""9.9 in the browser: a board whose live stream is refused (503: the process already holds as many
streams as it may) says so, keeps its snapshot fresh, and goes live by itself once a slot is free."""
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_console_board_browser import people, ring_live


def test_a_refused_board_stream_retries_by_itself_and_goes_live_when_a_slot_frees(page, live, live_staff):
    people(live_staff)
    live.app.config["SSE_MAX_STREAMS"] = 0  # every stream refused with 503 + Retry-After
    refused = []
    page.on("response", lambda r: r.url.endswith("/board/events") and refused.append(r.status))
    sign_in(page, live, "supervisor")
    expect(page.locator("#live-status")).to_have_text("Live updates paused: refreshing every 30 s")
    assert refused and set(refused) == {503}

    live.app.config["SSE_MAX_STREAMS"] = 8  # a slot frees
    expect(page.locator("#live-status")).to_have_text("Live", timeout=20000)
    sid = ring_live(live, "+447700900777")
    expect(page.locator(f'#ringing li[data-call="{sid}"]')).to_be_visible(timeout=5000)
