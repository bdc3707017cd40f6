"""R9: caller numbers never reach the logs in full (STYLE: "mask caller numbers in logs").

- `MaskNumbers`, a logging filter installed on the root handlers by `create_app`: the app's own lines,
  their tracebacks (SQL parameters included) and werkzeug's access lines (the development server)
  show E.164 numbers as their last 4 digits, and any path segment or query value of a request line that
  is a phone number in any format (`/api/v1/callers/07700%20900123`, `?phone=...`) likewise.
- `MaskingGunicornLogger`, gunicorn's logger class (set in `gunicorn.conf.py`, which gunicorn reads
  from the working directory): the same for its access log's request line, path, query and referer,
  and the filter on its error log.

Masking keeps the last 4 digits, as the board does (`call_flows.phone.mask`).
"""
import logging
import os
import re
from datetime import datetime
from urllib.parse import unquote, unquote_plus

from gunicorn.glogging import Logger as GunicornLogger

from call_flows.errors import InvalidPhone
from call_flows.phone import mask, to_e164

E164_LIKE = re.compile(r"\+\d{7,15}")  # candidates only: each is checked by phonenumbers before masking
# A number the service refuses (an extension, pause digits) is still someone's number: masked too.
PHONE_LIKE = re.compile(r"^(tel:)?[\d\s+\-().#,;=*~]*((ext|extension|x)\.?)?[\d\s+\-().#,;=*~]*$", re.I)
URL_ATOMS = ("r", "U", "q", "f", "{raw_uri}e", "{path_info}e", "{query_string}e", "{request_uri}e", "{referer}i")


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


class MaskNumbers(logging.Filter):
    """Rewrites each record's message (and traceback) with caller numbers masked; never drops a record."""

    def __init__(self, region: str = "GB"):
        super().__init__()
        self.region = region

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "werkzeug" and isinstance(record.args, tuple) and record.args \
                and isinstance(record.args[0], str):
            record.args = (mask_request_line(record.args[0], self.region), *record.args[1:])
        record.msg, record.args = mask_text(record.getMessage(), self.region), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, self.region)
        return True


def install(region: str = "GB") -> None:
    """Put the filter on every root handler once (handlers see propagated records; loggers do not)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskNumbers) for f in handler.filters):
            handler.addFilter(MaskNumbers(region))


class MaskingGunicornLogger(GunicornLogger):
    """gunicorn's logger with caller numbers masked in the access log's URL atoms and the error log."""

    region = os.environ.get("DEFAULT_REGION") or "GB"

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.addFilter(MaskNumbers(self.region))

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in URL_ATOMS:
            value = atoms.get(key)
            if not isinstance(value, str):
                continue
            if key == "r":
                atoms[key] = mask_request_line(value, self.region)
            elif key in ("q", "{query_string}e"):
                atoms[key] = mask_url("?" + value, self.region)[1:]
            else:
                atoms[key] = mask_url(value, self.region)
        return atoms
