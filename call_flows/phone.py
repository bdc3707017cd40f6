"""Phone numbers: everything stored is E.164, parsed with `phonenumbers` (never regexes).

This module is the one place that knows what a withheld caller looks like on Twilio, and that a
number written with an extension is not a caller ID (CONTRACT conventions).
"""
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import phonenumbers

from call_flows.errors import InvalidPhone

# Twilio's `From` for a withheld caller ID (help.twilio.com article 223179988, "Why am I getting calls
# from these strange numbers?"): the keypad spellings of the words carriers send, plus +464 for "no caller
# ID", and since 2022 the words themselves (Twilio changelog "withheld caller ID behavior for <Dial> calls").
WITHHELD_PLACEHOLDERS = {
    "266696687": "ANONYMOUS", "86282452253": "UNAVAILABLE", "8656696": "UNKNOWN",
    "7378742833": "RESTRICTED", "2562533": "BLOCKED", "464": "no caller ID",
}
WITHHELD_WORDS = {"anonymous", "restricted", "unknown", "private", "unavailable", "blocked", "withheld",
                  "no caller id", "no callerid", "unknown caller", "private number", "not available"}
MAX_RAW_LENGTH = 64
_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
        "its country code is not recognised (write it as +44 20 7946 0000, or as a number of the default region)",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "write it with digits, e.g. 020 7946 0000",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short to be a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "it is too short to be a phone number",
    phonenumbers.NumberParseException.TOO_LONG: "it is too long to be a phone number",
}


@dataclass(frozen=True)
class Caller:
    """Who is calling, as far as the platform says.

    kind: "number" (e164 set), "withheld", "client" (a Twilio Client identity), "sip", or "invalid".
    """

    kind: str
    e164: str | None
    raw: str
    parsed: Any = field(default=None, compare=False, repr=False)  # classify_caller's parse of a number

    @property
    def is_number(self) -> bool:
        return self.kind == "number"

    @cached_property
    def area_name(self) -> str | None:
        """`area(e164)`, from the number classify_caller already parsed (issue 13: parsing it again
        for ring time's card was a tenth of a ring's CPU); held as long as classify_caller's cache."""
        return _area_of(self.parsed) if self.parsed is not None else area(self.e164)


def withheld_placeholder(text: str | None) -> str | None:
    """The withheld-caller word a value stands for (e.g. "UNAVAILABLE" for +86282452253), or None.

    Twilio sends placeholders in E.164 form; a bare digit form (no "+") is matched too, as no real
    caller ID arrives without its country code. Words are matched case-insensitively."""
    text = (text or "").strip()
    if not text:
        return "empty"
    if text.lower() in WITHHELD_WORDS:
        return text.upper()
    if text.startswith("+") or text.isdigit():
        return WITHHELD_PLACEHOLDERS.get(phonenumbers.normalize_digits_only(text))
    return None


def to_e164(text: str, region: str = "GB") -> str:
    """Normalise a number written in any common format to E.164 (CONTRACT conventions).

    Raises InvalidPhone, with a plain sentence, for: nothing or over 64 characters; what `phonenumbers`
    cannot parse or finds impossible; a number written with an extension in any spelling (x, ext.,
    #, ;ext=, pause commas...: caller ID never carries one, so the main line must never stand for
    one person); and Twilio's withheld-caller placeholders (R4: never a register number)."""
    return phonenumbers.format_number(parse_number(text, region), phonenumbers.PhoneNumberFormat.E164)


def parse_number(text: str, region: str = "GB") -> phonenumbers.PhoneNumber:
    """to_e164's checks (see there; raises InvalidPhone), the number parsed before it is formatted."""
    if text is None or not text.strip():
        raise InvalidPhone("A phone number is required.")
    shown = text.strip()
    if len(text) > MAX_RAW_LENGTH:
        raise InvalidPhone(f"'{shown[:20]}...' is not a phone number: it is longer than {MAX_RAW_LENGTH} characters.")
    word = withheld_placeholder(shown)
    if word:
        raise InvalidPhone(f"'{shown}' is not a phone number: it is what Twilio sends when a caller withholds "
                           f"their number ({word}).")
    try:
        parsed = phonenumbers.parse(shown, region)
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_ERRORS.get(exc.error_type, "write it with digits, e.g. 020 7946 0000")
        raise InvalidPhone(f"'{shown}' is not a phone number: {reason}.") from None
    if parsed.extension:
        raise InvalidPhone(f"'{shown}' is not a phone number for caller ID: it has an extension ({parsed.extension}), "
                           "and caller ID never carries one. Give the person's own number (a direct line or "
                           "mobile) without the extension.")
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhone(f"'{shown}' is not a phone number: it has the wrong number of digits.")
    return parsed


def rejoin_extensions(pieces: list[str], region: str = "GB", separator: str = ";") -> list[str]:
    """Numbers split on `separator`, with an extension that the split cut off (RFC 3966 ";ext=123",
    pause digits ",123") put back on its number, so to_e164 refuses the extension instead of storing
    the main line. phonenumbers decides what is an extension."""
    out: list[str] = []
    for piece in pieces:
        joined = f"{out[-1]}{separator}{piece}" if out else ""
        if out and piece and not _possible(piece, region) and _extension(joined, region):
            out[-1] = joined
        else:
            out.append(piece)
    return out


def split_numbers(text: str, region: str = "GB") -> list[str]:
    """Numbers typed one a line, or separated by commas or semicolons, as separate pieces for to_e164.
    A line that phonenumbers reads as one number (extensions and pause digits included) stays whole."""
    pieces: list[str] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if _parses(line, region):
            pieces.append(line)
            continue
        for part in rejoin_extensions([p.strip() for p in line.split(",")], region, ","):
            pieces += rejoin_extensions([p.strip() for p in part.split(";")], region)
    return [p for p in pieces if p]


def _parses(text: str, region: str) -> bool:
    try:
        phonenumbers.parse(text, region)
        return True
    except phonenumbers.NumberParseException:
        return False


def _possible(text: str, region: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(text, region))
    except phonenumbers.NumberParseException:
        return False


def _extension(text: str, region: str) -> str | None:
    try:
        return phonenumbers.parse(text, region).extension
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=65536)
def stored_text(value: str | None, limit: int = 64) -> str:
    """A webhook's text as a call row stores it: NUL characters removed (PostgreSQL's text cannot hold
    them: such a row was refused, and held up every row written behind it) and clipped to `limit`."""
    return (value or "").replace("\x00", "")[:limit]


def classify_caller(raw: str | None, region: str = "GB") -> Caller:
    """Classify Twilio's `From` at ring time. Never raises: callers are never refused for their number.

    A possible-but-unallocated number is still a number (CONTRACT conventions); every withheld
    placeholder or word is "withheld" with no E.164, so it gets no signals and no register match."""
    raw = (raw or "").replace("\x00", "").strip()  # see stored_text
    clipped = raw[:MAX_RAW_LENGTH]
    lowered = clipped.lower()
    if withheld_placeholder(raw):
        return Caller("withheld", None, clipped)
    if lowered.startswith("client:"):
        return Caller("client", None, clipped)
    if lowered.startswith("sip:") or lowered.startswith("sips:"):
        return Caller("sip", None, clipped)
    try:
        parsed = parse_number(raw, region)
        return Caller("number", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), clipped, parsed)
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
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    return _area_of(number)


def load_area_names() -> None:
    """Load phonenumbers' geocoder now (287,000 prefixes: ~0.2 s and ~100 MB), not at the first card
    `area` names. wsgi.py calls it before `gc.freeze()` (issue 13): loaded after the freeze, by the
    first board or ring card, its dicts joined the collected heap and every full collection walked
    them (~10 ms each, a board snapshot in eight or so), and that first card waited 0.2 s."""
    from phonenumbers import geocoder  # noqa: F401  (imports phonenumbers.geodata, the whole table)


def _area_of(number: phonenumbers.PhoneNumber) -> str | None:
    from phonenumbers import PhoneNumberType, geocoder, number_type

    if number_type(number) in (PhoneNumberType.MOBILE, PhoneNumberType.PAGER, PhoneNumberType.PERSONAL_NUMBER):
        return "mobile"
    home = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return geocoder.description_for_number(number, "en", region=home) or None

def call_label(call_sid: str) -> str:
    """A short label for one call ("call 9F3A": the last 4 characters of its CallSid), different for
    two calls from look-alike numbers (issue 14.8)."""
    return f"call {call_sid[-4:].upper()}"
