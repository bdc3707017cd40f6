"""jobs named by path (issue 11 item 2): an outbox row's `task` is the task function's dotted path,
resolved with importlib, instead of a short name looked up in a registry

Revision ID: 0019_platform
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

revision = "0019_platform"
down_revision = "0018"
branch_labels = None
depends_on = None

PATHS = {  # the short names of issue 10's registry -> where each task lives now
    "play_warning": "call_flows.jobs.effects.play_warning",
    "end_call": "call_flows.jobs.effects.end_call",
    "connect_handler": "call_flows.jobs.effects.connect_handler",
    "notify_manager": "call_flows.jobs.effects.notify_manager",
    "send_email": "call_flows.jobs.mail.send_email",
    "alert_team_lead": "call_flows.calls.recovery.alert_team_lead",
    "write_up_termination": "call_flows.calls.write_up.write_up_termination",
    "register_import": "call_flows.register.import_run.run_import",
    "place_callback": "call_flows.callbacks.dialling.place_callback",
    "finish_callback": "call_flows.callbacks.dialling.finish_callback",
}
RENAME = sa.text("UPDATE outbox_jobs SET task = :new WHERE task = :old")


def upgrade() -> None:
    for short, path in PATHS.items():
        op.get_bind().execute(RENAME, {"old": short, "new": path})


def downgrade() -> None:
    for short, path in PATHS.items():
        op.get_bind().execute(RENAME, {"old": path, "new": short})
