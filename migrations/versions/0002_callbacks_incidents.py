"""callbacks incidents: claim/retry/overdue columns on callback tasks, I3-I7 columns on incidents,
and the email deliveries table (I4 distribution, I5/I7 escalation)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("picked_up_at", TS, nullable=True))
        batch.add_column(sa.Column("acknowledged_at", TS, nullable=True))
        batch.add_column(sa.Column("escalated_at", TS, nullable=True))
        batch.add_column(sa.Column("serious_escalated_at", TS, nullable=True))
        batch.add_column(sa.Column("police_decision", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("police_decision_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("police_decided_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("police_decided_at", TS, nullable=True))
        batch.create_foreign_key("fk_incidents_police_decided_by_id_users", "users", ["police_decided_by_id"], ["id"])
    with op.batch_alter_table("callback_tasks") as batch:
        batch.add_column(sa.Column("claim_active_at", TS, nullable=True))
        batch.add_column(sa.Column("retry_at", TS, nullable=True))
        batch.add_column(sa.Column("overdue_notified_at", TS, nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("dial_call_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_callback_tasks_dial_call_id_calls", "calls", ["dial_call_id"], ["id"])
    op.create_table(
        "email_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_email_deliveries_incident_id_incidents"),
        sa.ForeignKeyConstraint(["task_id"], ["callback_tasks.id"], name="fk_email_deliveries_task_id_callback_tasks"),
        sa.PrimaryKeyConstraint("id", name="pk_email_deliveries"),
        sa.UniqueConstraint("key", name="uq_email_deliveries_key"),
    )
    op.create_index("ix_email_deliveries_incident_id", "email_deliveries", ["incident_id"], unique=False)
    op.create_index("ix_email_deliveries_task_id", "email_deliveries", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_email_deliveries_task_id", table_name="email_deliveries")
    op.drop_index("ix_email_deliveries_incident_id", table_name="email_deliveries")
    op.drop_table("email_deliveries")
    with op.batch_alter_table("callback_tasks") as batch:
        batch.drop_constraint("fk_callback_tasks_dial_call_id_calls", type_="foreignkey")
        for name in ("dial_call_id", "cancel_reason", "overdue_notified_at", "retry_at", "claim_active_at"):
            batch.drop_column(name)
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint("fk_incidents_police_decided_by_id_users", type_="foreignkey")
        for name in ("police_decided_at", "police_decided_by_id", "police_decision_note", "police_decision",
                     "serious_escalated_at", "escalated_at", "acknowledged_at", "picked_up_at"):
            batch.drop_column(name)
