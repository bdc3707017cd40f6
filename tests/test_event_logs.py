"""11.5: each act writes one structured log line (JSON in production) with its rule; R9 numbers masked."""
import json
import logging

import pytest

from call_flows import logs
from call_flows.phone import mask
from tests.callback_helpers import post, terminated_call

CALLER = "+447700900123"
INCIDENT = {"incident_date": "2026-11-25", "incident_time": "10:40", "location": "Contact centre",
            "details": "Caller shouted after a warning", "action_taken": "Call ended", "staff_involved": "handler",
            "welfare_spoke_with_staff": True, "welfare_support_offered": True, "welfare_time_given": True}


class JsonLines(logging.Handler):
    """The root handler of production (`LOG_FORMAT=json`), its output kept as parsed lines."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logs.formatter(json=True, region="GB"))
        self.text: list[str] = []

    def emit(self, record):
        self.text.append(self.format(record))

    def events(self, name: str) -> list[dict]:
        return [line for line in map(json.loads, self.text) if line["event"] == name]


@pytest.fixture
def lines():
    handler = JsonLines()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def test_a_warning_press_writes_one_json_line_with_its_rule_and_the_caller_masked(client, ring, team, lines):
    handler = team["handler"]
    sid, _ = ring(from_=CALLER)
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    warned = client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    assert warned.status_code == 201
    [line] = lines.events("call_warned")
    assert {"event", "call_sid", "rule", "outcome", "user", "caller", "level", "timestamp"} <= line.keys()
    assert (line["call_sid"], line["rule"], line["outcome"], line["user"]) == (sid, "T1", "warned", handler["username"])
    assert line["caller"] == mask(CALLER)
    assert all("900123" not in text for text in lines.text), lines.text
    [accepted] = lines.events("call_accepted")
    assert (accepted["call_sid"], accepted["user"]) == (sid, handler["username"])


@pytest.mark.parametrize("body, event, outcome", [
    ({"reason": "abuse"}, "call_terminated", "after_warning"),
    ({"reason": "threats", "immediate_reason": "threat_of_violence"}, "call_terminated_immediately",
     "threat_of_violence"),
])
def test_t3_a_termination_writes_one_line_with_its_case_reference(client, ring, team, lines, body, event, outcome):
    handler = team["handler"]
    sid, _ = ring(from_=CALLER)
    client.post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"])
    if "immediate_reason" not in body:
        client.post(f"/api/v1/calls/{sid}/warnings", headers=handler["headers"], json={"reason": "abuse"})
    ended = client.post(f"/api/v1/calls/{sid}/termination", headers=handler["headers"],
                        json={**body, "case_reference": "PP-77", "note": {"customer_said_or_did": "shouted"}})
    assert ended.status_code in (200, 201), ended.get_json()
    [line] = lines.events(event)
    assert (line["call_sid"], line["case_reference"], line["rule"], line["outcome"]) == (sid, "PP-77", "T3", outcome)
    assert all("900123" not in text for text in lines.text)


@pytest.mark.parametrize("outcome, note, rule", [
    ("resolved", {"told_customer": "renewal sent"}, "M1"),
    ("behaviour_not_improved", {"customer_said_or_did": "swore again"}, "M2"),
])
def test_a_callback_outcome_writes_one_line_with_its_rule(app, client, team, lines, outcome, note, rule):
    t = terminated_call(app, client, team["handler"], from_=CALLER, case_reference="PP-9")
    tid = t["callback_task_id"]
    post(client, f"/callbacks/{tid}/claim", team["manager"])
    post(client, f"/callbacks/{tid}/dial", team["manager"])
    recorded = post(client, f"/callbacks/{tid}/outcome", team["manager"], {"outcome": outcome, "note": note})
    assert recorded.status_code == 200, recorded.get_json()
    [line] = lines.events("callback_outcome")
    assert (line["case_reference"], line["rule"], line["outcome"], line["user"]) == (
        "PP-9", rule, outcome, team["manager"]["username"])
    assert all("900123" not in text for text in lines.text)


def test_i3_an_incident_acknowledgement_writes_one_line(app, client, team, lines):
    t = terminated_call(app, client, team["handler"], case_reference="PP-10")
    iid = t["incident_id"]
    client.put(f"/api/v1/incidents/{iid}", headers=team["manager"]["headers"], json=INCIDENT)
    assert post(client, f"/incidents/{iid}/complete", team["manager"]).status_code == 200
    assert post(client, f"/incidents/{iid}/acknowledge", team["handler"]).status_code == 200
    [line] = lines.events("incident_acknowledged")
    assert (line["incident"], line["rule"], line["outcome"], line["user"]) == (
        iid, "I3", "acknowledged", team["handler"]["username"])
