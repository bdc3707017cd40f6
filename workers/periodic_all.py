"""Imports every module that registers periodic checks (see workers/schedules.py)."""
from . import deadlines  # noqa: F401,E402  (callbacks and incidents: overdue, retries, I5, I7)
