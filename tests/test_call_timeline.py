"""Issue 14.1: the pages /calls (history and search) and /calls/<CallSid> (the call's timeline): the
timeline tells the whole story of a call, and each page shows only what the viewer may see (R9)."""
from sqlalchemy import select

from app.db import db_session
from app.simulator import signed_post
from call_flows.models import AuditLog, RegisterEntry
from tests.callback_helpers import post, terminated_call
from tests.page_helpers import add_marker, sign_in


def test_timeline_shows_ring_flags_answer_warning_termination_note_incident_and_callback(app, client, team):
    add_marker(app, "+447700900123", marker=2)
    t = terminated_call(app, client, team["handler"])
    signed_post(app, client, "/twilio/voice/status", {"CallSid": t["call_sid"], "CallStatus": "completed",
                                                      "CallDuration": "42"})
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    post(client, f"/callbacks/{tid}/dial", team["manager"])
    post(client, f"/callbacks/{tid}/outcome", team["manager"],
         {"outcome": "resolved", "note": {"spoke_to": "Mr Smith", "told_customer": "renewal sent"}})
    sign_in(app, client, "manager")
    page = client.get(f"/calls/{t['call_sid']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    expected = ["Rang from +447700900123", "Register marker 2", "Answered by handler", "Warning given: abuse",
                "Detail: shouting", "Played: “Please be aware", "Platform: played", "Call ended for behaviour: abuse",
                "Case reference: PP-123", "Final notice:", "Call ended (completed)", "Duration: 42 s",
                "Case note, case PP-123", "Query: passport renewal", f"Incident record {t['incident_id']} opened",
                f"Callback task {tid} queued", "Callback claimed by manager", "Callback case note (attempt 1)",
                "Told customer: renewal sent", "Callback closed: resolved"]
    positions = [text.find(piece) for piece in expected]
    assert -1 not in positions, [p for p, at in zip(expected, positions, strict=True) if at == -1]
    assert positions.index(min(positions)) == 0  # it starts with the ring
    with app.app_context():  # R9: the marker shown is a logged view of the register entry
        entry_id = db_session().scalar(select(RegisterEntry.id))
        assert db_session().scalar(select(AuditLog.id).where(AuditLog.entity_id == entry_id,
                                                             AuditLog.actor_id == team["manager"]["id"]))


def test_r9_timeline_of_another_teams_call_is_404(app, client, team, staff):
    t = terminated_call(app, client, team["handler"])
    staff.add("manager2", "line_manager", team="Passports South")
    sign_in(app, client, "manager2")
    response = client.get(f"/calls/{t['call_sid']}")
    assert response.status_code == 404 and t["call_sid"] in response.get_data(as_text=True)


def test_history_page_lists_the_teams_calls_with_links_and_explains_a_bad_number(app, client, team, staff):
    t = terminated_call(app, client, team["handler"])
    sign_in(app, client, "supervisor")
    page = client.get("/calls?phone=07700+900123").get_data(as_text=True)
    assert f'href="/calls/{t["call_sid"]}"' in page and "+447700900123" in page
    bad = client.get("/calls?phone=12ab")
    assert bad.status_code == 400 and "is not a phone number" in bad.get_data(as_text=True)
    refused = client.get("/calls?phone=07700+900123&case_reference=" + "x" * 201)
    shown = refused.get_data(as_text=True)  # the search model refuses it; what was typed stays in the form
    assert refused.status_code == 400 and "case_reference is longer than 200" in shown and 'value="07700 900123"' in shown
    sign_in(app, client, "handler")
    assert client.get("/calls").status_code == 403
