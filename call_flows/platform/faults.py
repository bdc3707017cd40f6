"""What went wrong when the call platform refused or failed a request, sorted into terminal faults
(retrying cannot succeed) and transient ones (retry later, no sooner than Twilio's `Retry-After`).

Twilio's REST errors (docs: "Twilio error and warning dictionary"): a JSON body with `code`,
`message`, `more_info` and `status`.
- 21220 "Invalid call state" (HTTP 400): a realtime operation (redirect, TwiML update) on a call that
  is no longer in progress: the caller has hung up. Terminal: `CallerGone`.
- 20404 "Not found" (HTTP 404): the call (or its conference) does not exist or has ended. Terminal:
  `CallerGone`.
- 20429 / HTTP 429 "Too many requests": never processed, safe to retry after `Retry-After` seconds.
- HTTP 5xx, timeouts and refused connections: transient.
- Any other 4xx (bad parameters, bad credentials): terminal, retrying sends the same request again.
"""
import threading
from datetime import datetime
from typing import Any

from twilio.http import HttpClient

from call_flows.clock import parse_http_date, utcnow

CALLER_GONE_CODES = frozenset({21220, 20404})
MAX_RETRY_AFTER_S = 3600.0  # a Retry-After longer than this is capped: retries stay bounded


class PlatformFault(Exception):
    """A request to the call platform failed. `terminal`: retrying cannot succeed. `retry_after`:
    seconds the platform asked us to wait (None when it did not say). `code`: Twilio's error code."""

    terminal = False

    def __init__(self, message: str, code: int | None = None, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.code, self.status, self.retry_after = code, status, retry_after


class CallerGone(PlatformFault):
    """The caller's leg is no longer in progress (21220) or unknown to the platform (20404): there is
    nobody to play anything to. The warning or termination is recorded as `caller_left`."""

    terminal = True


class PlatformRefused(PlatformFault):
    """The platform refused the request for a reason a retry cannot change (a 4xx other than 429)."""

    terminal = True


class PlatformUnavailable(PlatformFault):
    """Busy (429), failing (5xx), timed out or unreachable: retry later, honouring `retry_after`.
    `outcome_unknown`: the request was sent but no answer came (a read timeout, a dropped
    connection), so it may have landed; the next attempt checks the call before repeating."""

    outcome_unknown = False


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse an HTTP `Retry-After` header: delay-seconds or an HTTP-date. None if absent or unreadable;
    never negative, capped at MAX_RETRY_AFTER_S."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        when = parse_http_date(value)
        if when is None:
            return None
        seconds = (when - (now or utcnow())).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def from_rest_error(status: int, code: int | None, message: str, retry_after: float | None) -> PlatformFault:
    """Sort one Twilio REST error (HTTP status, Twilio code) into a terminal or transient fault."""
    text = f"HTTP {status}, Twilio error {code}: {message}"
    if code in CALLER_GONE_CODES or (status == 404 and code in (None, 404)):
        return CallerGone(text, code, status)
    if status == 429 or code == 20429 or status >= 500:
        return PlatformUnavailable(text, code, status, retry_after)
    return PlatformRefused(text, code, status)


class HeaderKeepingHttpClient(HttpClient):  # type: ignore[misc]  # twilio ships no type information
    """Wraps the `twilio` library's HTTP client and keeps, per thread, the headers of the last
    response, because `TwilioRestException` does not carry them (we need `Retry-After`)."""

    def __init__(self, inner: HttpClient):
        super().__init__(inner.logger, is_async=False, timeout=inner.timeout)
        self.inner = inner
        self._local = threading.local()

    def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: float | None = None, allow_redirects: bool = False) -> Any:
        self._local.headers = {}
        response = self.inner.request(method, url, params=params, data=data, headers=headers, auth=auth,
                                      timeout=timeout, allow_redirects=allow_redirects)
        self._local.headers = {str(k).lower(): v for k, v in dict(response.headers or {}).items()}
        return response

    def last_header(self, name: str) -> str | None:
        return getattr(self._local, "headers", {}).get(name.lower())
