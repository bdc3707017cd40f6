"""The benchmark's baseline: the least a signed Twilio voice webhook can do.

One POST handler that checks X-Twilio-Signature with twilio's RequestValidator and answers a fixed
VoiceResponse (the same shape callguard answers: a greeting, then the caller's conference). No
database, no Redis, no flags. Run under gunicorn exactly as callguard is (`gunicorn bench.bare_app:app`).
"""
import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, VoiceResponse

app = Flask(__name__)
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")


@app.post("/twilio/voice/inbound")
def inbound():
    url = PUBLIC_BASE_URL + request.path if PUBLIC_BASE_URL else request.url
    if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    response = VoiceResponse()
    response.say("Thank you for calling. Please hold while we connect you.", voice="Polly.Amy", language="en-GB")
    dial = Dial()
    dial.conference("cg-bench", start_conference_on_enter=True, end_conference_on_exit=False, beep=False)
    response.append(dial)
    return Response(str(response), mimetype="text/xml")
