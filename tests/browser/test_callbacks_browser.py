"""The line manager's whole path in a real browser (issue 4): the task a terminated call created,
claim, call back through the Twilio stand-in, warn and terminate on the callback (M2), each
outcome, then the incident record completed, distributed (I4) and acknowledged by the handler (I3)."""
from playwright.sync_api import expect

from app.simulator import signed_post
from tests.browser.conftest import axe_serious, docs_screenshot, sign_in
from tests.callback_helpers import terminated_call
from tests.conftest import ARTIFACTS
from tests.twilio_standin import form


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"callbacks-{name}.png"), full_page=True)


def task_card(page, case):
    return page.locator("article.task", has=page.get_by_role("heading", name=f"Case {case}"))


def customer_leg_answers(live, client, call_sid):
    """Twilio reports the customer's leg of the bridge to the service (signed, as Twilio signs it)."""
    from app.db import db_session
    from call_flows.models import Call
    from sqlalchemy import select

    with live.app.app_context():
        call = db_session().scalar(select(Call).where(Call.direction == "callback", Call.status != "completed")
                                   .order_by(Call.id.desc()))
        call_id = call.id
    response = signed_post(live.app, client, f"/twilio/voice/callback/{call_id}/leg",
                           {"CallSid": call_sid, "CallStatus": "in-progress"})
    assert response.status_code == 204


def test_line_manager_works_the_queue_end_to_end(page, live, live_staff, stand_in_twilio, tmp_path):
    live.app.extensions["mailer"].outbox_dir = tmp_path / "outbox"
    manager = live_staff.add("manager", "line_manager", team="Passports North", phone="+447700900001")
    handler = live_staff.add("handler", "call_handler", manager="manager", team="Passports North")
    client = live.app.test_client()
    made = {case: terminated_call(live.app, client, handler, from_=f"+4477009001{n}", case_reference=case,
                                  immediate="threat_of_violence" if case == "PP-3" else None)
            for n, case in ((11, "PP-1"), (22, "PP-2"), (33, "PP-3"))}
    assert manager["id"]

    sign_in(page, live, "manager")
    expect(page.get_by_role("heading", name="Callback queue")).to_be_visible()
    headings = page.locator("article.task h2").all_inner_texts()
    assert [h.split(" ·")[0] for h in headings] == ["Case PP-3", "Case PP-1", "Case PP-2"]  # serious first
    expect(task_card(page, "PP-3")).to_contain_text("Serious: threat of violence")
    first = task_card(page, "PP-1")
    expect(first).to_contain_text("handler")
    expect(first).to_contain_text("Abuse (shouting)")  # the warning given
    expect(first).to_contain_text("passport renewal")  # the handler's case note
    assert axe_serious(page) == []
    shot(page, "queue")
    docs_screenshot(page, "callbacks.png")  # the README's picture; refreshed on request only

    # 1. resolved: claim, call back (manager's phone first, organisation's number), warn, outcome
    first.get_by_role("button", name="Claim case PP-1").click()
    expect(page.get_by_role("status").first).to_contain_text("Task claimed")
    first = task_card(page, "PP-1")
    expect(first.get_by_role("heading", name="What to say (M1)")).to_be_visible()
    expect(first).to_contain_text("ended because of the behaviour")
    first.get_by_role("button", name="Call back").click()
    created = stand_in_twilio.posts_to("/Calls.json")
    assert len(created) == 1
    placed = form(created[0])
    assert placed["To"] == "+447700900001" and placed["From"] == "+441632960000"
    assert "+447700900111" in placed["Twiml"]
    customer_leg_answers(live, client, "CA" + "1" * 32)
    page.reload()
    first = task_card(page, "PP-1")
    first.get_by_label("Warning reason").select_option("intimidating_language")
    first.get_by_role("button", name="Warn").click()
    expect(page.get_by_role("status").first).to_contain_text("Warning played")
    assert stand_in_twilio.posts_to(f"/Calls/{'CA' + '1' * 32}.json")  # the customer alone hears it
    assert axe_serious(page) == []
    shot(page, "during-callback")
    first = task_card(page, "PP-1")
    first.get_by_label("Resolved: query dealt with (M1)").check()
    first.get_by_label("Who you spoke to").fill("Mr Jones")
    first.get_by_label("What you told the customer (needed when resolved)").fill("Renewal is being processed")
    first.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("status").first).to_contain_text("Outcome recorded: Resolved")

    # 2. behaviour_not_improved: warn, then terminate on the callback (M2), then the outcome
    second = task_card(page, "PP-2")
    second.get_by_role("button", name="Claim case PP-2").click()
    task_card(page, "PP-2").get_by_role("button", name="Call back").click()
    customer_leg_answers(live, client, "CA" + "2" * 32)
    page.reload()
    task_card(page, "PP-2").get_by_role("button", name="Warn").click()
    second = task_card(page, "PP-2")
    second.get_by_label("What the customer said or did", exact=True).fill("Swore at the manager")
    second.get_by_role("button", name="Terminate").click()
    expect(page.get_by_role("status").first).to_contain_text("The call was ended")
    assert len(stand_in_twilio.posts_to(f"/Calls/{'CA' + '2' * 32}.json")) == 2  # warning, final notice
    second = task_card(page, "PP-2").first
    second.get_by_label("Behaviour not improved: call ended (M2)").check()
    second.get_by_label("What the customer said or did (needed when behaviour did not improve)").fill(
        "Swore again after the warning")
    second.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("status").first).to_contain_text("Outcome recorded: Behaviour not improved")
    assert page.locator("article.task h2").all_inner_texts()[0].startswith("Case PP-3")  # no follow-up task

    # 3. no_answer: the task goes back to the queue with a retry time (keyboard only)
    claim = task_card(page, "PP-3").get_by_role("button", name="Claim case PP-3")
    claim.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Task claimed")
    task_card(page, "PP-3").get_by_role("button", name="Call back").click()  # 14.8: no answer needs a dial
    expect(page.get_by_role("status").first).to_contain_text("Calling your phone now")
    third = task_card(page, "PP-3")
    third.get_by_label("No answer: try again later").check()
    third.get_by_role("button", name="Record outcome").click()
    expect(task_card(page, "PP-3")).to_contain_text("Next attempt from")
    expect(task_card(page, "PP-3")).to_contain_text("Attempts 1 of 3")
    closed = page.get_by_role("table").inner_text()
    assert "Resolved" in closed and "Behaviour not improved" in closed  # 14.6: labels, not codes
    shot(page, "outcomes")

    # the incident record: complete it (I1, RIDDOR, I3) and see it distributed (I4)
    page.goto(f"{live.url}/incidents/{made['PP-1']['incident_id']}")
    expect(page.get_by_role("heading", name=f"Incident record {made['PP-1']['incident_id']}")).to_be_visible()
    for label, value in (("Date", "2026-11-25"), ("Time", "10:40"), ("Location", "Durham contact centre"),
                         ("Details of the incident", "Caller swore repeatedly after a warning"),
                         ("Action taken (including support for the staff member)", "Call ended; EAP offered"),
                         ("Staff involved", "handler"), ("Reported to", "manager")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("RIDDOR-reportable").check()
    page.get_by_label("Spoke with the staff member").check()
    page.get_by_label("Reminded them of support (EAP, union, staff contact officers)").check()
    page.get_by_label("Gave them time").check()
    page.get_by_role("button", name="Complete and send").click()
    expect(page.get_by_role("status").first).to_contain_text("Record completed")
    sent = page.get_by_role("table").inner_text()
    for recipient in ("HR service centre", "Equality and Diversity team", "Union health and safety representatives"):
        assert recipient in sent  # 14.6: the recipients' labels, not their codes
    assert sent.count("sent") >= 3 and "Security help desk" not in sent
    assert len(list((tmp_path / "outbox").glob("incident-*.eml"))) == 3
    assert axe_serious(page) == []
    shot(page, "incident-distributed")

    # the handler reads and signs it in their own session (I3)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live, "handler")
    page.goto(f"{live.url}/incidents")
    expect(page.get_by_role("heading", name="Records to acknowledge")).to_be_visible()
    assert axe_serious(page) == []
    page.get_by_role("link", name=f"Incident {made['PP-1']['incident_id']}: case PP-1").click()
    page.get_by_role("button", name="I have read this record: sign it").click()
    expect(page.get_by_role("status").first).to_contain_text("you have read and signed")
    expect(page.locator("dl.facts").first).to_contain_text("Acknowledged by the staff member")
    assert "not yet" not in page.locator("dl.facts").first.inner_text()
    shot(page, "acknowledged")


def test_handler_is_refused_the_queue_page(page, live, live_staff):
    live_staff.add("handler", "call_handler", team="Passports North")
    sign_in(page, live, "handler")
    response = page.goto(f"{live.url}/callbacks")
    assert response.status == 403
    expect(page.get_by_role("heading", name="This page is not available to you")).to_be_visible()
