"""Twilio webhooks under /twilio: signed, TwiML or 204, and never an application error to a caller."""
from flask import Blueprint

bp = Blueprint("twilio", __name__, url_prefix="/twilio")

from . import voice  # noqa: E402,F401
from . import callback_legs  # noqa: E402,F401
from . import whisper  # noqa: E402,F401  (14.10)
