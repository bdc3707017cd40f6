"""Twilio webhooks under /twilio: signed, TwiML or 204, and never an application error to a caller."""
from flask import Blueprint


class TwilioBlueprint(Blueprint):
    """CONTRACT: every /twilio/ route answers with or without a trailing slash (a Voice URL typed in
    Twilio's console as `/twilio/voice/inbound/` must not 404). The slash is matched, never redirected:
    Twilio signs the URL it was configured with, and the signature is checked against that URL."""

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        options.setdefault("strict_slashes", False)
        super().add_url_rule(rule.rstrip("/") or "/", endpoint, view_func, **options)


bp = TwilioBlueprint("twilio", __name__, url_prefix="/twilio")

from . import voice  # noqa: E402,F401
from . import callback_legs  # noqa: E402,F401
from . import fallback  # noqa: E402,F401
from . import whisper  # noqa: E402,F401  (14.10)
