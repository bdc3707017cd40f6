"""Imports every module that registers outbox tasks, so any process can run any recorded job.
Each area adds its own module here."""
from . import effects  # noqa: F401
from . import recovery  # noqa: F401
from . import termination_write_up  # noqa: F401  (the write-up guard, 9.16)
from . import register_import_run  # noqa: F401  (register import from the admin page)
from . import callback_calls, mail  # noqa: F401  (callback dial, outcome; emails)
