"""Issue 11.1: one act, the same consequences, whichever door it came through.

Each act is driven through every door it has (the staff API, the callback queue's page form, Twilio's
callback leg) on a world of its own in one app, and the records, outbox jobs and live events that
follow are compared door against door. Acts with a single door (accept, need) are checked once.
The manager's callback call (M2) is the call that has a page door for warn and terminate."""
import queue

import pytest
from sqlalchemy import func, select

from app.db import db_session
from app.simulator import signed_post
from call_flows.models import (Call, CallbackTask, CallWarning, CaseNote, OutboxJob, RecoveryPeriod,
                               Termination, User)
from tests.callback_helpers import post, terminated_call
from tests.page_helpers import sign_in


def _callback_under_way(app, client, team, from_):
    """A terminated call whose callback the manager has claimed and dialled: (task id, leg CallSid)."""
    tid = terminated_call(app, client, team["handler"], from_=from_)["callback_task_id"]
    assert post(client, f"/callbacks/{tid}/claim", team["manager"]).status_code == 200
    dialled = post(client, f"/callbacks/{tid}/dial", team["manager"])
    assert dialled.status_code == 202, dialled.get_json()
    return tid, dialled.get_json()["call_sid"]


def _trace(app, client, act, sid):
    """Run `act()`; returns what followed on call `sid`: its records, the outbox jobs recorded by
    the act (task: status) and the live events published (kind: payload keys, CallSid masked)."""
    events = app.extensions["events"].subscribe()
    with app.app_context():
        first_job = (db_session().scalar(select(func.max(OutboxJob.id))) or 0) + 1
    try:
        act()
        published = []
        while True:
            try:
                published.append(events.get_nowait())
            except queue.Empty:
                break
    finally:
        app.extensions["events"].unsubscribe(events)
    with app.app_context():
        session = db_session()
        call = session.scalar(select(Call).where(Call.call_sid == sid))
        termination = session.scalar(select(Termination).where(Termination.call_id == call.id))
        jobs = {job.task.rsplit(".", 1)[-1]: job.status for job in session.scalars(select(OutboxJob).where(OutboxJob.id >= first_job))}
        records = {
            "call_status": call.status,
            "warnings": session.scalar(select(func.count(CallWarning.id)).where(CallWarning.call_id == call.id)),
            "terminated": termination is not None and termination.platform_status,
            "case_notes": sorted(session.scalars(select(CaseNote.kind).where(CaseNote.call_id == call.id))),
            "recovery_for": termination and session.scalar(
                select(User.username).join(RecoveryPeriod, RecoveryPeriod.user_id == User.id)
                .where(RecoveryPeriod.termination_id == termination.id)),
            "written_up": termination is not None and None not in (
                termination.case_note_id, termination.incident_id, termination.callback_task_id),
        }
    live = {e["kind"]: sorted(e) for e in published if e.get("call_sid", sid) == sid}
    return {"records": records, "jobs": jobs, "live": live}


def _page(app, client, team, path, form):
    def act():
        sign_in(app, client, "manager")
        assert client.post(path, data=form).status_code == 302
        client.post("/logout")
    return act


def _api(client, who, path, body):
    def act():
        response = post(client, path, who, body)
        assert response.status_code in (200, 201), response.get_json()
    return act


def test_11_a_warning_is_the_same_act_from_the_api_and_the_callback_page(app, client, team):
    by_api, by_page = (_callback_under_way(app, client, team, from_) for from_ in ("+447700900111", "+447700900222"))
    api = _trace(app, client, _api(client, team["manager"], f"/calls/{by_api[1]}/warnings", {"reason": "abuse"}),
                 by_api[1])
    page = _trace(app, client, _page(app, client, team, f"/callbacks/{by_page[0]}/warn", {"reason": "abuse"}),
                  by_page[1])
    assert api["records"]["warnings"] == 1 and api["jobs"] == {"play_warning": "done"}
    assert "call_warned" in api["live"] and "warning_played" in api["live"]
    page["live"].pop("callback_changed")  # the queue page also says its task changed
    assert page == api


def test_11_t3_a_termination_is_the_same_act_from_the_api_and_the_callback_page(app, client, team):
    """Fails before 11.1: the page gave no recovery time (issue 6) and published no `call_terminated`."""
    worlds = [_callback_under_way(app, client, team, from_) for from_ in ("+447700900333", "+447700900444")]
    for tid, _ in worlds:
        sign_in(app, client, "manager")
        assert client.post(f"/callbacks/{tid}/warn", data={"reason": "abuse"}).status_code == 302
        client.post("/logout")
    (_, api_sid), (page_tid, page_sid) = worlds
    api = _trace(app, client, _api(client, team["manager"], f"/calls/{api_sid}/termination",
                                   {"reason": "abuse", "note": {"customer_said_or_did": "swore"}}), api_sid)
    page = _trace(app, client, _page(app, client, team, f"/callbacks/{page_tid}/terminate",
                                     {"reason": "abuse", "customer_said_or_did": "swore"}), page_sid)
    assert api["records"]["recovery_for"] == "manager" and api["records"]["written_up"]
    assert {"end_call", "alert_team_lead"} <= set(api["jobs"])
    assert "call_terminated" in api["live"] and "team_lead_alert" in api["live"]
    page["live"].pop("callback_changed")
    assert page == api


def test_11_a_callback_task_change_is_the_same_from_the_api_and_the_page(app, client, team):
    tid = terminated_call(app, client, team["handler"], from_="+447700900555")["callback_task_id"]
    other = terminated_call(app, client, team["handler"], from_="+447700900666")["callback_task_id"]
    with app.app_context():
        sids = [db_session().get(Call, db_session().get(CallbackTask, t).call_id).call_sid for t in (tid, other)]
    api = _trace(app, client, _api(client, team["manager"], f"/callbacks/{tid}/claim", {}), sids[0])
    page = _trace(app, client, _page(app, client, team, f"/callbacks/{other}/claim", {}), sids[1])
    assert api["live"] == page["live"] == {"callback_changed": ["kind", "status", "task_id", "team_id"]}
    assert api == page


@pytest.mark.parametrize("final", ["completed"])
def test_11_a_call_status_is_the_same_from_the_status_webhook_and_the_callback_leg(app, client, team, final):
    """The callback leg (Twilio's callback for the manager's callback call) and the ordinary status
    callback move the call on and publish `call_status` alike."""
    worlds = [_callback_under_way(app, client, team, from_) for from_ in ("+447700900777", "+447700900888")]
    with app.app_context():
        ids = [db_session().scalar(select(Call.id).where(Call.call_sid == sid)) for _, sid in worlds]
    form = {"CallStatus": final, "CallDuration": "30"}

    def status_webhook():
        assert signed_post(app, client, "/twilio/voice/status", {"CallSid": worlds[0][1], **form}).status_code == 204

    def callback_leg():
        path = f"/twilio/voice/callback/{ids[1]}/leg"
        assert signed_post(app, client, path, {"CallSid": worlds[1][1], **form}).status_code == 204

    by_status = _trace(app, client, status_webhook, worlds[0][1])
    by_leg = _trace(app, client, callback_leg, worlds[1][1])
    assert by_status["records"]["call_status"] == final
    assert by_status["live"] == {"call_status": ["call_sid", "card", "handler_id", "kind", "place", "status", "team_id"]}
    assert by_leg == by_status


def test_11_accept_and_need_have_one_door_each_and_their_consequences(app, client, team, ring):
    """Accept rings the handler's own phone in (an outbox job) and publishes `call_accepted`; a need
    (T2) is recorded with nothing further."""
    sid, _ = ring()
    accepted = _trace(app, client, _api(client, team["handler"], f"/calls/{sid}/accept", None), sid)
    assert accepted["jobs"] == {"connect_handler": "done"}
    assert accepted["live"] == {"call_accepted": ["call_sid", "card", "handler_id", "kind", "place", "team_id"]}
    need = _trace(app, client, _api(client, team["handler"], f"/calls/{sid}/need", {"need": "hard of hearing"}), sid)
    assert need["jobs"] == {} and need["live"] == {}
