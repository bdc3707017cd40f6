"""the board (issue 13 item 4): a viewer's last logged view of a register entry by index (R9: the
board, console, history and callback queue log each entry shown once per viewer and call), not by
a scan of the whole audit log for each entry shown

Revision ID: 0022_audit_viewer
Revises: 0021_ring_notify
"""
from alembic import op

revision = "0022_audit_viewer"
down_revision = "0021_ring_notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_viewer", "audit_log", ["actor_id", "entity", "entity_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_viewer", table_name="audit_log")
