"""The registry of periodic checks run by `workers.jobs.tick` every minute.

An area registers `fn(app, now) -> summary` with `@periodic` in its own module under workers/,
and adds that module to workers/periodic_all.py. `now` is passed in so tests control the clock.
"""
from collections.abc import Callable
from typing import Any

PERIODIC: list[Callable[..., Any]] = []


def periodic(fn):
    PERIODIC.append(fn)
    return fn
