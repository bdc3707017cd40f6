"""scale (issue 13 items 4-6): the minute tick, the trends and the board read by index, not by table

Revision ID: 0018
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0014"
branch_labels = None
depends_on = None

IN_FORCE = sa.text("status = 'in_force'")
LIVE = sa.text("status IN ('ringing', 'queued', 'in-progress')")
PLAIN = (  # name, table, columns
    ("ix_register_entries_status", "register_entries", ["status"]),
    ("ix_register_reminders_entry_kind", "register_reminders", ["entry_id", "kind"]),
    ("ix_warnings_created", "warnings", ["created_at"]),
    ("ix_terminations_created", "terminations", ["created_at"]),
    ("ix_incidents_opened", "incidents", ["opened_at"]),
    ("ix_callback_tasks_need_arose", "callback_tasks", ["need_arose_at"]),
)


def upgrade() -> None:
    # R6: the tick reads in-force entries by the start of their review cycle, and expiry by date.
    op.create_index("ix_register_entries_review", "register_entries",
                    [sa.text("coalesce(last_reviewed_on, added_on)"), "id"],
                    postgresql_where=IN_FORCE, sqlite_where=IN_FORCE)
    op.create_index("ix_register_entries_in_force_expires", "register_entries", ["expires_at"],
                    postgresql_where=IN_FORCE, sqlite_where=IN_FORCE)
    # The board: live calls only (a few hundred among millions).
    op.create_index("ix_calls_live", "calls", ["status", "started_at"], postgresql_where=LIVE, sqlite_where=LIVE)
    # Trends: each warning's or termination's team by an index-only probe (never a scan of all calls).
    op.create_index("ix_calls_id_team", "calls", ["id"], postgresql_include=["team_id"])
    for name, table, columns in PLAIN:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(PLAIN):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_calls_id_team", table_name="calls")
    op.drop_index("ix_calls_live", table_name="calls")
    op.drop_index("ix_register_entries_in_force_expires", table_name="register_entries")
    op.drop_index("ix_register_entries_review", table_name="register_entries")
