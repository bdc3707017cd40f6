"""Imports every module that registers outbox tasks, so any process can run any recorded job.
Each area adds its own module here."""
from call_flows.jobs import effects  # noqa: F401
from call_flows.calls import recovery  # noqa: F401
from call_flows.calls import write_up as termination_write_up  # noqa: F401  (the write-up guard, 9.16)
from call_flows.register import import_run as register_import_run  # noqa: F401  (register import from the admin page)
from call_flows.callbacks import dialling as callback_calls  # noqa: F401
from call_flows.jobs import mail  # noqa: F401  (callback dial, outcome; emails)
