"""C1/C3 contact restrictions and R10/C2 repeat-caller signals: recorded fairly, routed at ring time,
never silently dropped, never blocking."""
from datetime import datetime, timezone
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from sqlalchemy import update

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.models import Call
from call_flows.calls.restricted import routing_for
from tests.register_helpers import CALLER, in_force, incident_from_call, panel


def _customer(client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    return client.get(f"/api/v1/register/entries/{entry_id}", headers=members[0]["headers"]).get_json()["customer_id"]


def _restrict(client, team, customer_id, **body):
    return client.post(f"/api/v1/register/customers/{customer_id}/restrictions", headers=team["manager"]["headers"],
                       json=body)


def _told(client, team, customer_id):
    told = client.post(f"/api/v1/register/customers/{customer_id}/concerns", headers=team["manager"]["headers"],
                       json={"channel": "phone", "note": "Explained the concern; chance to change"})
    assert told.status_code == 201


def _ringing(subscriber) -> dict:
    """The next call_ringing event (accept and warning events are published too)."""
    while True:
        event = subscriber.get(timeout=2)
        if event["kind"] == "call_ringing":
            return event


def _said(response) -> tuple[list[str], bool, bool]:
    root = ElementTree.fromstring(response.data)
    return ([s.text for s in root.iter("Say")], root.find("Hangup") is not None,
            root.find("./Dial/Conference") is not None)


def test_c1_restriction_refused_until_the_customer_was_told(client, ring, team, staff):
    customer_id = _customer(client, ring, team, staff)
    refused = _restrict(client, team, customer_id, kind="written_only")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "customer_not_told"
    assert _restrict(client, team, customer_id, kind="written_only").status_code == 409
    _told(client, team, customer_id)
    ok = _restrict(client, team, customer_id, kind="written_only", detail="Until the complaint closes")
    assert ok.status_code == 201 and ok.get_json()["customer_told_at"]
    assert client.post(f"/api/v1/register/customers/{customer_id}/restrictions", headers=team["handler"]["headers"],
                       json={"kind": "written_only"}).status_code == 403


def test_c3_written_only_caller_is_told_how_to_contact_never_silently_dropped(client, ring, team, staff):
    customer_id = _customer(client, ring, team, staff)
    _told(client, team, customer_id)
    _restrict(client, team, customer_id, kind="written_only")
    _, response = ring(CALLER)
    said, hung_up, _ = _said(response)
    assert hung_up and said and "in writing" in said[0] and "new issue" in said[0]


def test_c3_named_officer_caller_is_connected_and_routed_to_the_officer(app, client, ring, team, staff):
    customer_id = _customer(client, ring, team, staff)
    _told(client, team, customer_id)
    officer = team["manager"]["id"]
    assert _restrict(client, team, customer_id, kind="named_officer").status_code == 400  # who?
    assert _restrict(client, team, customer_id, kind="named_officer", named_officer_id=officer).status_code == 201
    subscriber = app.extensions["events"].subscribe()
    _, response = ring(CALLER)
    said, hung_up, conference = _said(response)
    assert not hung_up and conference and "named officer" in said[0]
    event = subscriber.get(timeout=2)
    assert event["restricted"] is True and event["named_officer_id"] == officer


def test_c3_set_hours_outside_the_hours_tells_the_caller_when_to_call(client, ring, team, staff):
    customer_id = _customer(client, ring, team, staff)
    _told(client, team, customer_id)
    tomorrow = (utcnow().astimezone(ZoneInfo("Europe/London")).weekday() + 1) % 7
    bad = _restrict(client, team, customer_id, kind="set_hours", hours={"days": [9], "start": "10:00", "end": "12:00"})
    assert bad.status_code == 400
    ok = _restrict(client, team, customer_id, kind="set_hours", hours={"days": [tomorrow], "start": "10:00",
                                                                       "end": "12:00"})
    assert ok.status_code == 201
    _, response = ring(CALLER)
    said, hung_up, _ = _said(response)
    assert hung_up and "between 10:00 and 12:00 on" in said[0] and "write to us" in said[0]
    ended = client.post(f"/api/v1/register/restrictions/{ok.get_json()['id']}/end", headers=team["manager"]["headers"])
    assert ended.status_code == 200 and ended.get_json()["status"] == "ended"
    _, response = ring(CALLER)
    _, hung_up, conference = _said(response)
    assert not hung_up and conference


def test_c3_set_hours_routing_inside_and_outside_the_hours():
    hours = {"days": [0, 2], "start": "10:00", "end": "12:00"}
    monday_11 = datetime(2026, 11, 30, 11, 0, tzinfo=timezone.utc)  # 11:00 GMT
    inside = routing_for("set_hours", None, None, hours, monday_11)
    assert inside["end_call"] is False
    outside = routing_for("set_hours", None, None, hours, datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc))
    assert outside["end_call"] is True and "on Monday and Wednesday" in outside["message"]


def test_r10_repeat_warnings_are_signals_at_ring_time_with_configurable_thresholds(app, client, ring, team):
    incident_from_call(client, ring, team)
    subscriber = app.extensions["events"].subscribe()
    sid, response = ring(CALLER)
    assert _ringing(subscriber)["signals"] == ["previous_termination"]  # one warning is not a repeat
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
    sid, response = ring(CALLER)
    event = _ringing(subscriber)
    assert event["signals"] == ["repeat_warnings", "previous_termination"]
    assert _said(response)[2]  # a signal never blocks: the caller still joins the conference
    with app.app_context():
        s = db_session()
        org_settings.save(s, "repeat_terminations_threshold", 3)
        org_settings.save(s, "repeat_warnings_threshold", 3)
        s.commit()
    org_settings.invalidate()
    ring(CALLER)
    assert _ringing(subscriber)["signals"] == []


def test_c2_calls_per_day_and_call_time_shown_to_managers_never_blocking(app, client, ring, team):
    with app.app_context():
        s = db_session()
        org_settings.save(s, "calls_per_day_threshold", 2)
        org_settings.save(s, "call_seconds_per_day_threshold", 600)
        org_settings.save(s, "long_call_seconds", 500)
        s.commit()
    org_settings.invalidate()
    subscriber = app.extensions["events"].subscribe()
    for _ in range(3):
        _, response = ring("+447700900321")
        assert _said(response)[2]
    assert [_ringing(subscriber)["signals"] for _ in range(3)] == [[], [], ["many_calls_today"]]
    with app.app_context():
        s = db_session()
        s.execute(update(Call).where(Call.caller == "+447700900321").values(duration_s=300))
        s.commit()
    report = client.get("/api/v1/register/signals", headers=team["manager"]["headers"]).get_json()
    assert report["thresholds"]["calls_per_day_threshold"] == 2
    row = next(r for r in report["callers"] if r["caller"] == "+447700900321")
    assert row["calls_today"] == 3 and row["call_seconds_today"] == 900
    assert set(row["signals"]) == {"many_calls_today", "long_call_time_today"}
    flags = client.get("/api/v1/callers/+447700900321", headers=team["manager"]["headers"]).get_json()
    assert "long_call_time_today" in flags["signals"]["flags"]
    assert client.get("/api/v1/register/signals", headers=team["handler"]["headers"]).status_code == 403
