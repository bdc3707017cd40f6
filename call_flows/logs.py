"""Structured logs (issue 11.5): one line per event, JSON lines in production, readable in a terminal,
caller numbers masked in every line (R9).

- `get_logger(name)`: a structlog logger. An event is a name and fields, one line each:
  `log.info("call_warned", call_sid=sid, rule="T1", outcome="warned", user="hana")`; the fields used
  across the service are `event`, `call_sid`, `case_reference`, `rule`, `outcome`, `user`.
- `configure(json, region)`: once per process (the app factory, the RQ worker). Puts one handler on the
  root logger, so stdlib lines (werkzeug, gunicorn, RQ, alembic, Flask's `app.logger`) are formatted
  by the same processors as structlog's: `timestamp` (ISO 8601, UTC), `level`, `logger`, `event`.
- `formatter(json, region)`: that formatter, for handlers set up elsewhere (gunicorn's own logs).
- `wants_json(env)`: `LOG_FORMAT=json|console` when set; otherwise JSON except in development
  (`CALLGUARD_ENV` unset or `development`, the embedded default).

R9: `MaskNumbers`, a processor that runs last before rendering, reduces every E.164 number in the
message, the fields and the traceback (SQL parameters included) to its last 4 digits, and werkzeug's
request line (whose path may carry a number in any format) likewise (`call_flows.log_masking`).
"""
import logging
import sys
from collections.abc import Mapping

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from call_flows.log_masking import mask_request_line, mask_text

SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
TAKEN_OVER = ("rq.worker", "rq.scheduler")  # RQ's CLI gives these handlers of their own: they join the root's


class MaskNumbers:
    """Processor (R9): string values with E.164 numbers masked; werkzeug's request line masked as a URL."""

    def __init__(self, region: str = "GB") -> None:
        self.region = region

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        record, args = event.get("_record"), event.pop("positional_args", None)
        if isinstance(record, logging.LogRecord) and record.name == "werkzeug" and isinstance(args, tuple) \
                and args and isinstance(args[0], str):
            event["event"] = str(record.msg) % (mask_request_line(args[0], self.region), *args[1:])
        return {key: mask_text(value, self.region) if isinstance(value, str) else value
                for key, value in event.items()}


class _RootHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure` puts on the root logger (replaced, not doubled, on a second call)."""


def wants_json(env: Mapping[str, str]) -> bool:
    """JSON lines unless LOG_FORMAT says `console`, or (unset) in development, the embedded default."""
    chosen = (env.get("LOG_FORMAT") or "").strip().lower()
    if chosen in ("json", "console"):
        return chosen == "json"
    return env.get("CALLGUARD_ENV", "development") != "development"


def formatter(json: bool, region: str = "GB") -> structlog.stdlib.ProcessorFormatter:
    """The formatter for every handler: structlog events and stdlib records alike, numbers masked."""
    renderer: Processor = (structlog.processors.JSONRenderer(ensure_ascii=False) if json
                           else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED, pass_foreign_args=True,
        processors=[structlog.processors.format_exc_info, MaskNumbers(region),
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer])


def configure(json: bool, region: str = "GB", level: int = logging.INFO) -> None:
    """Route structlog through stdlib logging and give the root logger one handler with `formatter`."""
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _RootHandler)]:
        root.removeHandler(old)
    handler = _RootHandler()
    handler.setFormatter(formatter(json, region))
    root.addHandler(handler)
    root.setLevel(level)
    for name in TAKEN_OVER:
        taken = logging.getLogger(name)
        taken.handlers.clear()
        taken.propagate = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named `name` (the module's `__name__`), bound lazily: `configure` may come later."""
    return structlog.stdlib.get_logger(name)
