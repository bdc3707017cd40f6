"""The registry of periodic checks run by `workers.jobs.tick` every minute.

An area registers `fn(wiring, now) -> summary` (wiring: workers.context) with `@periodic` in its
own module under workers/, and adds that module to workers/periodic_all.py. `now` is passed in so
tests control the clock.
"""
PERIODIC = []


def periodic(fn):
    PERIODIC.append(fn)
    return fn
