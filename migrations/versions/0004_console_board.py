"""console board: recovery periods after a termination (issue 6)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recovery_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("termination_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_early_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["termination_id"], ["terminations.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("termination_id"),
    )
    op.create_index(op.f("ix_recovery_periods_user_id"), "recovery_periods", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_periods_user_id"), table_name="recovery_periods")
    op.drop_table("recovery_periods")
