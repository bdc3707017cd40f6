"""calls: the flags as they were at ring time (marker, signals, restriction) for GET /api/v1/calls/{CallSid}

Revision ID: 0007
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("ring_signals", sa.JSON(), nullable=True))
    op.add_column("calls", sa.Column("ring_restricted", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("ring_restricted")
        batch.drop_column("ring_signals")
