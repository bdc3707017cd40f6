"""R9: caller numbers never reach the logs in full (STYLE: "mask caller numbers in logs").

Pure text functions, used by the log pipeline (call_flows/logs.py, every line) and by gunicorn's
access log (app/log_privacy.py): E.164 numbers in free text, and any path segment or query value
of a URL that is a phone number in any format (`/api/v1/callers/07700%20900123`, `?phone=...`),
keep their last 4 digits, as the board does (`call_flows.phone.mask`).
"""
import re
from datetime import datetime
from urllib.parse import unquote, unquote_plus

from call_flows.errors import InvalidPhone
from call_flows.phone import mask, to_e164

E164_LIKE = re.compile(r"\+\d{7,15}")  # candidates only: each is checked by phonenumbers before masking
# A number the service refuses (an extension, pause digits) is still someone's number: masked too.
PHONE_LIKE = re.compile(r"^(tel:)?[\d\s+\-().#,;=*~]*((ext|extension|x)\.?)?[\d\s+\-().#,;=*~]*$", re.I)


def _number(text: str, region: str) -> str | None:
    """The E.164 form when `text` (decoded) is a possible phone number with at least 7 digits, else None."""
    if len(text) > 64 or sum(ch.isdigit() for ch in text) < 7 or _is_date(text):
        return None
    try:
        return to_e164(text, region)
    except InvalidPhone:  # refused as a caller ID (e.g. an extension), yet a number all the same
        return "+" + "".join(ch for ch in text if ch.isdigit()) if PHONE_LIKE.match(text.strip()) else None


def _is_date(text: str) -> bool:
    """ISO dates and times (`?since=2026-11-01`) are not numbers, though the digits could dial."""
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def mask_text(text: str, region: str = "GB") -> str:
    """Every E.164 number in free text (log messages, tracebacks) reduced to its last 4 digits."""
    return E164_LIKE.sub(lambda m: mask(e164) if (e164 := _number(m.group(0), region)) else m.group(0), text)


def _mask_part(part: str, region: str, query: bool = False) -> str:
    """One path segment or query value; `+` means a space only in a query."""
    e164 = _number((unquote_plus if query else unquote)(part), region)
    return mask(e164) if e164 else part


def mask_url(target: str, region: str = "GB") -> str:
    """A URL (path and query) with every segment or query value that is a phone number masked."""
    path, sep, query = target.partition("?")
    path = "/".join(_mask_part(p, region) for p in path.split("/"))
    if sep:
        pairs = []
        for pair in query.split("&"):
            key, eq, value = pair.partition("=")
            pairs.append(f"{key}={_mask_part(value, region, True)}" if eq else _mask_part(key, region, True))
        query = "&".join(pairs)
    return path + sep + query


def mask_request_line(line: str, region: str = "GB") -> str:
    """`GET /path?query HTTP/1.1` with the target masked (see `mask_url`)."""
    method, _, rest = line.partition(" ")
    target, space, protocol = rest.rpartition(" ")
    if not space:
        return f"{method} {mask_url(rest, region)}" if rest else mask_url(method, region)
    return f"{method} {mask_url(target, region)} {protocol}"
