"""Issue 9, item 3: no act on a call that is over. Warn (T1), need (T2), terminate (T3) and accept on
a call that has ended or was terminated are a 409 `call_ended` (CONTRACT), through the API and the
callback page alike; nothing is stored, nothing is played, and the R10 signals do not move. A repeat
of the same termination still returns it (CONTRACT: idempotent); a different one is refused."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db_session
from app.simulator import signed_post
from call_flows.jobs import effects
from call_flows.clock import utcnow
from call_flows.models import Call, CallWarning, PlatformAction, Termination
from call_flows.platform.twilio_rest import TwilioPlatform
from call_flows.platform.faults import CallerGone
from tests.callback_helpers import post
from tests.page_helpers import sign_in

FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")


def _live_call(client, ring, handler, warn=True):
    sid, _ = ring()
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    if warn:
        warned = client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
        assert warned.status_code == 201
    return sid


def _terminate(client, sid, who, **body):
    return client.post(f"/api/v1/calls/{sid}/termination", headers=who["headers"], json={"reason": "abuse", **body})


def _acts(client, sid, who, accept=True):
    """Every act the CONTRACT names, as the API's doors (accept is the handlers' and managers' only)."""
    h = who["headers"]
    return {
        **({"accept": client.post(f"/api/v1/calls/{sid}/accept", headers=h)} if accept else {}),
        "warn": client.post(f"/api/v1/calls/{sid}/warnings", headers=h, json={"reason": "threats"}),
        "need": client.post(f"/api/v1/calls/{sid}/need", headers=h, json={"need": "anxious"}),
        "terminate": _terminate(client, sid, who, immediate_reason="threat_of_violence"),
    }


def _counts(app, sid):
    with app.app_context():
        s = db_session()
        call_id = s.scalar(select(Call.id).where(Call.call_sid == sid))
        return (s.scalar(select(func.count()).select_from(CallWarning).where(CallWarning.call_id == call_id)),
                s.scalar(select(func.count()).select_from(Termination).where(Termination.call_id == call_id)),
                s.scalar(select(func.count()).select_from(PlatformAction).where(PlatformAction.call_sid == sid)))


def test_t1_warning_after_termination_is_409_call_ended_not_played_and_not_counted(app, client, ring, team):
    handler = team["handler"]
    sid = _live_call(client, ring, handler)
    assert _terminate(client, sid, handler).status_code == 201
    before = _counts(app, sid)
    refused = client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "call_ended"
    assert "ended" in refused.get_json()["error"]["message"]
    assert _counts(app, sid) == before  # no warning stored, nothing sent to the platform after <Hangup/>
    flags = client.get("/api/v1/callers/+447700900123", headers=team["supervisor"]["headers"]).get_json()
    assert "repeat_warnings" not in flags["signals"]["flags"]  # R10: one real warning, below the threshold


@pytest.mark.parametrize("who", ["handler", "supervisor"])
def test_every_act_on_a_terminated_call_is_409_call_ended(app, client, ring, team, who):
    sid = _live_call(client, ring, team["handler"])
    assert _terminate(client, sid, team["handler"]).status_code == 201
    before = _counts(app, sid)
    for act, response in _acts(client, sid, team[who], accept=who == "handler").items():
        assert response.status_code == 409, (act, response.get_json())
        assert response.get_json()["error"]["code"] == "call_ended", act
    assert _counts(app, sid) == before
    with app.app_context():
        assert db_session().scalar(select(Call.needs_note).where(Call.call_sid == sid)) is None


@pytest.mark.parametrize("final", FINAL_STATUSES)
def test_every_act_on_a_call_with_a_final_status_is_409_call_ended(app, client, ring, team, final):
    sid = _live_call(client, ring, team["handler"])
    ended = signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": final})
    assert ended.status_code == 204
    before = _counts(app, sid)
    for act, response in _acts(client, sid, team["handler"]).items():
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "call_ended", act
    assert _counts(app, sid) == before


def test_a_call_with_an_end_time_is_over_even_before_its_final_status(app, client, ring, team):
    sid = _live_call(client, ring, team["handler"], warn=False)
    with app.app_context():
        s = db_session()
        s.scalar(select(Call).where(Call.call_sid == sid)).ended_at = utcnow()
        s.commit()
    for act, response in _acts(client, sid, team["handler"]).items():
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "call_ended", act


def test_t3_repeating_the_same_termination_returns_it_but_a_different_one_is_409(app, client, ring, team):
    handler = team["handler"]
    sid = _live_call(client, ring, handler)
    first = _terminate(client, sid, handler, case_reference="PP-9", note={"spoke_to": "Mr Smith"})
    assert first.status_code == 201
    same = _terminate(client, sid, handler, case_reference="PP-9", note={"spoke_to": "Mr Smith"})
    assert same.status_code == 200 and same.get_json()["id"] == first.get_json()["id"]
    assert _terminate(client, sid, handler).get_json()["id"] == first.get_json()["id"]  # parts left out agree
    for different in ({"immediate_reason": "threat_of_violence"}, {"case_reference": "PP-10"},
                      {"note": {"spoke_to": "Mrs Jones"}}, {"reason": "threats"}):
        refused = _terminate(client, sid, handler, **different)
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "call_ended", different
    assert _counts(app, sid)[1] == 1


def test_t3_immediate_detail_without_an_immediate_reason_is_refused_not_dropped(client, ring, team):
    sid = _live_call(client, ring, team["handler"])
    refused = _terminate(client, sid, team["handler"], immediate_detail="said he would come to the office")
    assert refused.status_code == 400 and "immediate_reason" in refused.get_json()["error"]["message"]


def _callback_under_way(app, client, team):
    from tests.callback_helpers import terminated_call

    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    assert post(client, f"/callbacks/{tid}/claim", team["manager"]).status_code == 200
    dialled = post(client, f"/callbacks/{tid}/dial", team["manager"])
    assert dialled.status_code == 202
    return tid, dialled.get_json()["call_sid"]


def test_m2_callback_leg_warn_after_its_termination_is_409_call_ended_on_the_page(app, client, team):
    tid, leg = _callback_under_way(app, client, team)
    sign_in(app, client, "manager")
    warned = client.post(f"/callbacks/{tid}/warn", data={"reason": "abuse"})
    assert warned.status_code == 302
    ended = client.post(f"/callbacks/{tid}/terminate", data={"reason": "abuse", "customer_said_or_did": "swore"})
    assert ended.status_code == 302
    before = _counts(app, leg)
    for path, form in ((f"/callbacks/{tid}/warn", {"reason": "abuse"}),
                       (f"/callbacks/{tid}/terminate", {"reason": "threats", "immediate_reason": "threat_of_violence"})):
        refused = client.post(path, data=form)
        assert refused.status_code == 409, path
        assert "ended for behaviour" in refused.get_data(as_text=True)
    assert _counts(app, leg) == before
    page = client.get("/callbacks").get_data(as_text=True)
    assert "Callback call over" in page and f'action="/callbacks/{tid}/warn"' not in page
    api = client.post(f"/api/v1/calls/{leg}/warnings", headers=team["manager"]["headers"], json={"reason": "abuse"})
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "call_ended"


def test_simulator_refuses_a_redirect_after_hangup_and_logs_nothing_as_heard(app, client, ring, team):
    """The simulated platform treats a call whose TwiML reached <Hangup/> as over, as Twilio does
    (error 21220): a delayed warning job run after the final notice is `caller_left`, not heard."""
    handler = team["handler"]
    sid = _live_call(client, ring, handler)
    assert _terminate(client, sid, handler).status_code == 201
    now = utcnow()
    with app.app_context():
        s = db_session()
        call = s.scalar(select(Call).where(Call.call_sid == sid))
        late = CallWarning(call_id=call.id, caller=call.caller, reason="abuse", given_by_id=handler["id"],
                           created_at=now - timedelta(seconds=5), platform_status="pending")
        s.add(late)
        s.flush()
        platform = app.extensions["platform"]
        with pytest.raises(CallerGone):
            platform.redirect_call(s, sid, "<Response><Say>late</Say></Response>", now=now)
        effects.play_warning(s, app.extensions["job_context"], now, warning_id=late.id)
        assert late.platform_status == "caller_left"
        s.commit()
    heard = app.test_cli_runner().invoke(args=["sim", "hear", sid]).output
    assert heard.count("redirect") == 2 and heard.strip().endswith("</Response>")
    assert "<Hangup" in heard.strip().splitlines()[-1]  # nothing after the final notice


def test_twilio_21220_on_a_redirect_is_call_not_in_progress(twilio_app, twilio_http):
    """Twilio refuses to redirect a call that has completed (error 21220); the platform says so."""
    platform = twilio_app.extensions["platform"]
    assert isinstance(platform, TwilioPlatform)
    sid = "CA" + "d" * 32
    with twilio_app.app_context():
        s = db_session()
        platform.redirect_call(s, sid, "<Response><Hangup/></Response>")
        with pytest.raises(CallerGone):
            platform.redirect_call(s, sid, "<Response><Say>late</Say></Response>")


def test_m2_callback_page_immediate_termination_keeps_its_detail(app, client, team):
    """T3/I7 on the callback page: the immediate reason's detail has a field and reaches the record."""
    tid, leg = _callback_under_way(app, client, team)
    sign_in(app, client, "manager")
    assert 'name="immediate_detail"' in client.get("/callbacks").get_data(as_text=True)
    ended = client.post(f"/callbacks/{tid}/terminate", data={
        "reason": "threats", "immediate_reason": "other_serious", "immediate_detail": "threatened to follow staff"})
    assert ended.status_code == 302
    with app.app_context():
        s = db_session()
        call_id = s.scalar(select(Call.id).where(Call.call_sid == leg))
        termination = s.scalar(select(Termination).where(Termination.call_id == call_id))
        assert termination.immediate_detail == "threatened to follow staff"


def test_r9_another_teams_handler_accepting_a_terminated_call_learns_only_that_it_is_taken(client, ring, team, staff):
    """A call of another team answers `already_accepted`: nothing of whether or why it ended (R9)."""
    sid = _live_call(client, ring, team["handler"])
    assert _terminate(client, sid, team["handler"]).status_code == 201
    stranger = staff.add("stranger", "call_handler", team="Council South")
    refused = client.post(f"/api/v1/calls/{sid}/accept", headers=stranger["headers"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "already_accepted"
    assert "T3" not in refused.get_data(as_text=True) and "behaviour" not in refused.get_data(as_text=True)
    own = client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    assert own.status_code == 409 and own.get_json()["error"]["code"] == "call_ended"
