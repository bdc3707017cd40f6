"""Imports every module that registers periodic checks (see workers/schedules.py)."""
from . import register_jobs  # noqa: F401,E402  (caution register R6, R9)
from . import deadlines  # noqa: F401,E402  (callbacks and incidents: overdue, retries, I5, I7)
from . import retention_jobs  # noqa: F401,E402  (R9 retention of calls, notes, tasks, receipts, mail)
from . import reconcile_jobs  # noqa: F401,E402  (calls whose status callbacks never came, issue 12)
