"""Phone numbers: everything stored is E.164, parsed with `phonenumbers` (never regexes)."""
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from .errors import InvalidPhone

# Twilio's From values for a withheld caller ID; +266696687 spells "ANONYMOUS" on a keypad.
WITHHELD_VALUES = {"anonymous", "restricted", "unknown", "private", "unavailable", "+266696687", "266696687"}
MAX_RAW_LENGTH = 64


@dataclass(frozen=True)
class Caller:
    """Who is calling, as far as the platform says.

    kind: "number" (e164 set), "withheld", "client" (a Twilio Client identity), "sip", or "invalid".
    """

    kind: str
    e164: str | None
    raw: str

    @property
    def is_number(self) -> bool:
        return self.kind == "number"


def to_e164(text: str, region: str = "GB") -> str:
    """Normalise a number written in any common format to E.164, or raise InvalidPhone (CONTRACT)."""
    if text is None or not text.strip() or len(text) > MAX_RAW_LENGTH:
        raise InvalidPhone("a phone number is required (at most 64 characters)")
    try:
        parsed = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhone("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def classify_caller(raw: str | None, region: str = "GB") -> Caller:
    """Classify Twilio's `From` at ring time. Never raises: callers are never refused for their number.

    A possible-but-unallocated number is still a number (CONTRACT conventions).
    """
    raw = (raw or "").strip()
    clipped = raw[:MAX_RAW_LENGTH]
    lowered = clipped.lower()
    if not raw or lowered in WITHHELD_VALUES:
        return Caller("withheld", None, clipped)
    if lowered.startswith("client:"):
        return Caller("client", None, clipped)
    if lowered.startswith("sip:") or lowered.startswith("sips:"):
        return Caller("sip", None, clipped)
    try:
        return Caller("number", to_e164(raw, region), clipped)
    except InvalidPhone:
        return Caller("invalid", None, clipped)


def mask(e164: str | None) -> str:
    """Masked for logs and boards: keep the last 4 digits (CONTRACT /board)."""
    if not e164:
        return "withheld"
    return "•" * max(0, len(e164) - 4) + e164[-4:]


@lru_cache(maxsize=4096)
def area(e164: str | None) -> str | None:
    """Where a number belongs, as people say it ("Leeds", "mobile", "France"), to tell apart two
    callers whose masked numbers end alike (issue 14.8); None when phonenumbers cannot say."""
    if not e164:
        return None
    from phonenumbers import PhoneNumberType, geocoder, number_type

    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    if number_type(number) in (PhoneNumberType.MOBILE, PhoneNumberType.PAGER, PhoneNumberType.PERSONAL_NUMBER):
        return "mobile"
    home = phonenumbers.region_code_for_country_code(number.country_code)
    return geocoder.description_for_number(number, "en", region=home) or None

def call_label(call_sid: str) -> str:
    """A short label for one call ("call 9F3A": the last 4 characters of its CallSid), different for
    two calls from look-alike numbers (issue 14.8)."""
    return f"call {call_sid[-4:].upper()}"
