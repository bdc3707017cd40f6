"""The collaborators an outbox task may use (passed as `ctx`): the call platform, the mailer and
live events. Built once per app, in the web process and in each worker."""
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class JobContext:
    platform: Any
    mailer: Any = None
    publish: Callable[..., None] = lambda kind, **payload: None


def make_job_context(app) -> JobContext:
    from .events import publish

    return JobContext(platform=app.extensions["platform"], mailer=app.extensions.get("mailer"),
                      publish=lambda kind, **payload: publish(app, kind, **payload))
