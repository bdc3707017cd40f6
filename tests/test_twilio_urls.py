"""Issue 9.8: every /twilio/ route answers with or without a trailing slash, and the signature is
checked against the URL as requested (CONTRACT "Twilio webhooks")."""
import re

import pytest

from app.simulator import new_call_sid, signature, signed_post
from tests.conftest import make_app


def _twilio_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/twilio/"):
            paths.append(re.sub(r"<(?:string:)?[^>]+>", "x", re.sub(r"<int:[^>]+>", "1", rule.rule)))
    return sorted(paths)


@pytest.fixture(scope="module")
def url_app(tmp_path_factory):
    from app.cli.db_cmd import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('urls') / 'urls.sqlite3'}"
    upgrade(url)
    application = make_app(url)
    yield application
    application.extensions["engine"].dispose()


def test_the_url_map_has_the_contract_twilio_routes(url_app):
    paths = _twilio_paths(url_app)
    assert {"/twilio/voice/inbound", "/twilio/voice/status", "/twilio/voice/fallback"} <= set(paths)


@pytest.mark.parametrize("slash", ["", "/"])
def test_every_twilio_route_answers_with_or_without_a_trailing_slash(url_app, slash):
    client = url_app.test_client()
    for path in _twilio_paths(url_app):
        params = {"CallSid": new_call_sid(), "From": "+447700900123", "To": "+441632960000",
                  "CallStatus": "in-progress"}
        response = signed_post(url_app, client, path + slash, params)
        assert response.status_code in (200, 204), (path + slash, response.status_code)
        if response.status_code == 200:
            assert response.mimetype == "text/xml", path + slash


@pytest.mark.parametrize("path", ["/twilio/voice/inbound/", "/twilio/voice/status/", "/twilio/voice/fallback/"])
def test_signature_is_checked_against_the_url_as_requested(url_app, path):
    client = url_app.test_client()
    params = {"CallSid": new_call_sid(), "From": "+447700900123"}
    token = url_app.config["SIMULATED_AUTH_TOKEN"]
    signed_without_slash = signature(token, "http://localhost" + path.rstrip("/"), params)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signed_without_slash}).status_code == 403
    signed_as_requested = signature(token, "http://localhost" + path, params)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signed_as_requested}).status_code != 403


def test_the_one_hmac_validator_answers_as_twilios_for_either_url_form():
    """app's Validator signs the URL's given form first and the other only when that fails: for every
    URL form Twilio may have signed (with or without the port), a wrong signature, another token or
    repeated form fields, it says what twilio's RequestValidator.validate says."""
    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    from app.twilio_hooks.signature import Validator

    ours, twilios = Validator("token-a"), RequestValidator("token-a")
    form = MultiDict([("CallSid", "CA1"), ("From", "+447700900123"), ("Digits", "1"), ("Digits", "2")])
    urls = ["https://cg.example/twilio/voice/inbound", "https://cg.example:443/twilio/voice/inbound",
            "http://127.0.0.1:8123/twilio/voice/inbound", "http://127.0.0.1/twilio/voice/inbound?x=1"]
    signers = [RequestValidator("token-a"), RequestValidator("token-b")]
    answers = []
    for url in urls:
        for signed_url in urls:
            for signer in signers:
                sig = signer.compute_signature(signed_url, form)
                for candidate in (sig, sig[:-2] + "AA", ""):
                    answer = ours.validate(url, form, candidate)
                    assert answer == twilios.validate(url, form, candidate), (url, signed_url, candidate)
                    answers.append(answer)
    assert True in answers and False in answers


def test_the_validators_signature_is_twilios_for_any_form_and_url():
    """Validator.compute_signature (ring time's faster reading of a form) gives twilio's own signature,
    byte for byte, for random forms (repeated fields, empty and non-ASCII values, names that sort
    alike) and URLs, and validate agrees with twilio's for right, wrong and foreign signatures."""
    import random

    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    from app.twilio_hooks.signature import Validator

    rng = random.Random(13)
    alphabet = "aAbB0+ %&=é€\u00a0_-"
    ours, twilios = Validator("token-a"), RequestValidator("token-a")
    for _ in range(500):
        pairs = [("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 5))),
                  "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 6)))) for _ in range(rng.randrange(0, 8))]
        pairs += pairs[:rng.randrange(0, 2)]  # a field sent twice
        form = MultiDict(pairs)
        url = rng.choice(["https://cg.example/twilio/voice/inbound", "http://127.0.0.1:8123/twilio/voice/status?x=é"])
        assert ours.compute_signature(url, form) == twilios.compute_signature(url, form)
        signed = rng.choice([twilios, RequestValidator("token-b")]).compute_signature(url, form)
        for candidate in (signed, signed[:-1] + "x", "é" * len(signed)):
            assert ours.validate(url, form, candidate) == twilios.validate(url, form, candidate)
