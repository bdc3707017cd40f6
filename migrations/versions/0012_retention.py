"""retention (R9): calls remember when their caller's number was reduced, and the purge finds the rest by index

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_calls_unpurged_started", "calls", ["started_at"],
                    postgresql_where=sa.text("purged_at IS NULL"), sqlite_where=sa.text("purged_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_calls_unpurged_started", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("purged_at")
