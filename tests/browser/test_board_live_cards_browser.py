"""Issue 13 item 4 in the browser (Debian's Chromium): once the board is live, a call's events carry
its card and the board applies each in place (ringing, then taken, then warned, T1) without fetching
the snapshot again; only a (re)connect fetches it."""
import requests
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_console_board_browser import ring_live


def test_t1_a_warning_updates_the_card_in_place_without_a_snapshot_fetch(page, live, live_staff):
    live_staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = live_staff.add("handler", "call_handler", manager="manager", team="Passports North",
                             phone="+447700900002")
    live_staff.add("supervisor", "supervisor", team="Passports North")
    fetches = []
    page.on("request", lambda r: fetches.append(r.url) if "/board/state" in r.url else None)
    sign_in(page, live, "supervisor")
    expect(page.locator("#live-status")).to_have_text("Live")
    page.wait_for_timeout(300)  # the fetch on connect
    on_connect = len(fetches)
    assert on_connect >= 1

    sid = ring_live(live, "+447700900555")
    expect(page.locator(f'#ringing li[data-call="{sid}"]')).to_be_visible()
    assert requests.post(f"{live.url}/api/v1/calls/{sid}/accept", headers=handler["headers"],
                         timeout=5).status_code == 200
    card = page.locator(f'#calls li[data-call="{sid}"]')
    expect(card).to_contain_text("Connected")
    expect(page.locator(f'#ringing li[data-call="{sid}"]')).to_have_count(0)
    warned = requests.post(f"{live.url}/api/v1/calls/{sid}/warnings", headers=handler["headers"],
                           json={"reason": "abuse"}, timeout=5)
    assert warned.status_code == 201
    expect(card).to_contain_text("Warned 1×")
    expect(page.locator("#calls-count")).to_have_text("(1)")
    page.wait_for_timeout(300)
    assert len(fetches) == on_connect  # every update above came in its event, no snapshot fetch
