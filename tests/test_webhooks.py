"""Twilio webhooks: signatures, ring-time recording and flags, status callbacks, idempotency."""
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from app.db import db_session
from app.simulator import new_call_sid, signature, signed_post
from call_flows.models import Call, CallWarning, WebhookReceipt
from tests import twiml


def count(app, model):
    with app.app_context():
        return db_session().scalar(select(func.count()).select_from(model))


def calls(app):
    with app.app_context():
        return list(db_session().scalars(select(Call).order_by(Call.id)))


@pytest.mark.parametrize("headers", [{}, {"X-Twilio-Signature": "forged"}])
def test_unsigned_or_forged_inbound_is_refused_and_nothing_stored(app, client, headers):
    response = client.post("/twilio/voice/inbound", data={"CallSid": new_call_sid(), "From": "+447700900123"},
                           headers=headers)
    assert response.status_code == 403
    assert count(app, Call) == 0


def test_signature_over_other_params_is_refused(app, client):
    params = {"CallSid": new_call_sid(), "From": "+447700900123"}
    sig = signature(app.config["SIMULATED_AUTH_TOKEN"], "http://localhost/twilio/voice/inbound", params)
    tampered = dict(params, From="+447700900999")
    assert client.post("/twilio/voice/inbound", data=tampered, headers={"X-Twilio-Signature": sig}).status_code == 403
    assert count(app, Call) == 0


def test_forged_status_callback_changes_nothing(app, client, ring):
    sid, _ = ring()
    response = client.post("/twilio/voice/status", data={"CallSid": sid, "CallStatus": "completed"},
                           headers={"X-Twilio-Signature": "bogus"})
    assert response.status_code == 403
    assert calls(app)[0].status == "ringing"


def test_public_base_url_is_what_signatures_are_checked_against(twilio_app):
    client = twilio_app.test_client()
    params = {"CallSid": new_call_sid(), "From": "+447700900123"}
    good = signature("test-auth-token", "https://callguard.example.org/twilio/voice/inbound", params)
    local = signature("test-auth-token", "http://localhost/twilio/voice/inbound", params)
    assert client.post("/twilio/voice/inbound", data=params, headers={"X-Twilio-Signature": local}).status_code == 403
    assert client.post("/twilio/voice/inbound", data=params, headers={"X-Twilio-Signature": good}).status_code == 200


@pytest.mark.parametrize("written", ["07700 900123", "+44 (0)7700 900123", "00447700900123"])
def test_ring_stores_the_caller_in_e164(app, ring, written):
    ring(written)
    assert calls(app)[0].caller == "+447700900123"


@pytest.mark.parametrize("raw,kind", [("anonymous", "withheld"), ("+266696687", "withheld"), ("", "withheld"),
                                      ("client:agent7", "client"), ("sip:x@pbx.example.org", "sip"),
                                      ("<b>nonsense</b>", "invalid")])
def test_odd_callers_are_still_connected(app, ring, raw, kind):
    _, response = ring(raw)
    assert response.status_code == 200
    assert ElementTree.fromstring(response.data).find("./Dial/Conference") is not None
    call = calls(app)[0]
    assert call.caller is None and call.caller_kind == kind


def test_missing_callsid_still_answers_twiml_and_stores_nothing(app, client):
    response = signed_post(app, client, "/twilio/voice/inbound", {"From": "+447700900123"})
    assert response.status_code == 200 and twiml.parse(response.data) is not None
    assert count(app, Call) == 0


def test_repeated_inbound_delivery_records_the_call_once(app, ring):
    sid, first = ring("+447700900123")
    _, second = ring("+447700900123", call_sid=sid)
    assert first.data == second.data
    assert count(app, Call) == 1


def test_r10_earlier_warnings_and_terminations_are_repeat_signals_at_ring(app, client, ring, team):
    for _ in range(2):
        sid, _ = ring("+447700900555")
        client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
        client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
        client.post(f"/api/v1/calls/{sid}/termination", headers=team["handler"]["headers"], json={"reason": "abuse"})
    events = app.extensions["events"].subscribe()
    sid, _ = ring("07700 900555")
    event = events.get_nowait()
    assert event["kind"] == "call_ringing"
    assert set(event["signals"]) >= {"repeat_warnings", "previous_termination"}
    assert event["caller"].endswith("0555") and "+44" not in event["caller"]  # masked
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])  # R9: the caller on their call
    flags = client.get("/api/v1/callers/07700%20900555", headers=team["handler"]["headers"]).get_json()
    assert flags["signals"]["warnings"] == 2 and flags["signals"]["terminations"] == 2
    assert flags["caller"] == "+447700900555"


def test_status_callbacks_keep_state_and_duration_and_ignore_duplicates(app, client, ring):
    sid, _ = ring()
    for status, duration in [("in-progress", None), ("completed", "73"), ("completed", "73")]:
        params = {"CallSid": sid, "CallStatus": status, **({"CallDuration": duration} if duration else {})}
        assert signed_post(app, client, "/twilio/voice/status", params).status_code == 204
    call = calls(app)[0]
    assert (call.status, call.duration_s) == ("completed", 73)
    assert count(app, WebhookReceipt) == 2
    late = signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "ringing"})
    assert late.status_code == 204 and calls(app)[0].status == "completed"  # never moves backwards


def test_same_idempotency_token_is_applied_once(app, client, ring):
    sid, _ = ring()
    headers = {"I-Twilio-Idempotency-Token": "tok-1"}
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "in-progress"}, headers)
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "completed"}, headers)
    assert calls(app)[0].status == "in-progress"


def test_warning_on_an_ended_call_is_refused(app, client, ring, team):
    sid, _ = ring()
    client.post(f"/api/v1/calls/{sid}/accept", headers=team["handler"]["headers"])
    signed_post(app, client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": "completed"})
    response = client.post(f"/api/v1/calls/{sid}/warnings", headers=team["handler"]["headers"], json={"reason": "abuse"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "call_ended"
    assert count(app, CallWarning) == 0
