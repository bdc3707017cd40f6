"""Issue 14.7 (M2): ending a manager's callback for behaviour is one callback with one record of what
happened, on the original incident: no automatically cancelled task the manager never saw, no second
incident with the same case reference."""
from sqlalchemy import func, select

from app.db import db_session
from call_flows.models import CallbackTask, Incident, Termination
from tests.callback_helpers import post, terminated_call


def _callback_under_way(app, client, team):
    t = terminated_call(app, client, team["handler"])
    tid = t["callback_task_id"]
    assert post(client, f"/callbacks/{tid}/claim", team["manager"]).status_code == 200
    dialled = post(client, f"/callbacks/{tid}/dial", team["manager"])
    assert dialled.status_code == 202, dialled.get_json()
    return t, dialled.get_json()["call_sid"]


def _end_for_behaviour(client, team, sid, **extra):
    warned = post(client, f"/calls/{sid}/warnings", team["manager"], {"reason": "abuse"})
    assert warned.status_code == 201, warned.get_json()
    ended = post(client, f"/calls/{sid}/termination", team["manager"], {"reason": "abuse", **extra})
    assert ended.status_code == 201, ended.get_json()
    return ended.get_json()


def test_m2_ending_the_callback_records_it_on_the_original_incident_and_task(app, client, team):
    original, sid = _callback_under_way(app, client, team)
    ended = _end_for_behaviour(client, team, sid)
    assert ended["incident_id"] == original["incident_id"]
    assert ended["callback_task_id"] == original["callback_task_id"]
    recorded = post(client, f"/callbacks/{original['callback_task_id']}/outcome", team["manager"],
                    {"outcome": "behaviour_not_improved", "note": {"customer_said_or_did": "swore again"}})
    assert recorded.status_code == 200, recorded.get_json()
    with app.app_context():
        session = db_session()
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        tasks = list(session.scalars(select(CallbackTask)))
        assert [(t.id, t.status, t.outcome) for t in tasks] == [
            (original["callback_task_id"], "closed", "behaviour_not_improved")]  # nothing cancelled unseen
        incident = session.get(Incident, original["incident_id"])
        assert incident.case_reference == "PP-123"
        assert [e["ended_for_behaviour"] for e in incident.details["callback_terminations"]] == [ended["id"]]
        assert [e["outcome"] for e in incident.details["callbacks"]] == ["behaviour_not_improved"]
        termination = session.get(Termination, ended["id"])
        assert termination.case_reference == "PP-123"  # the callback's case, not a new CALL-... reference
    notes = client.get("/api/v1/cases/PP-123/notes", headers=team["manager"]["headers"]).get_json()["notes"]
    assert [n["kind"] for n in notes] == ["termination", "termination", "callback"]
    assert notes[1]["known"]["callback_task_id"] == original["callback_task_id"]
    assert client.get("/api/v1/callbacks", headers=team["manager"]["headers"]).get_json()["callbacks"] == []


def test_i7_a_threat_on_the_callback_makes_the_original_incident_serious(app, client, team):
    original, sid = _callback_under_way(app, client, team)
    client.post(f"/api/v1/calls/{sid}/termination", headers=team["manager"]["headers"],
                json={"reason": "threats", "immediate_reason": "threat_of_violence"})
    with app.app_context():
        session = db_session()
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        assert session.get(Incident, original["incident_id"]).serious is True


def test_m2_a_callback_ended_for_behaviour_cannot_be_recorded_as_resolved_or_unanswered(app, client, team):
    original, sid = _callback_under_way(app, client, team)
    _end_for_behaviour(client, team, sid)
    for outcome, note in (("resolved", {"told_customer": "sent"}), ("no_answer", None)):
        refused = post(client, f"/callbacks/{original['callback_task_id']}/outcome", team["manager"],
                       {"outcome": outcome, **({"note": note} if note else {})})
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "ended_for_behaviour"
    with app.app_context():
        task = db_session().get(CallbackTask, original["callback_task_id"])
        assert (task.status, task.attempts) == ("claimed", 0)  # nothing stored by the refusals
