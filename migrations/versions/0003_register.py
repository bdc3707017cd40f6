"""register: the review panel's workflow (R3, R5, R6, R8, R9, C1)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('register_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('marker', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('final_status', sa.String(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_counts')),
    sa.UniqueConstraint('month', 'marker', 'source', 'final_status', name=op.f('uq_register_counts_month'))
    )
    op.create_table('register_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_reminders')),
    sa.UniqueConstraint('key', name=op.f('uq_register_reminders_key'))
    )
    op.create_table('concern_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('told_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_concern_notices_customer_id_customers')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_concern_notices_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_notices'))
    )
    with op.batch_alter_table('concern_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_notices_customer_id'), ['customer_id'], unique=False)

    op.create_table('panel_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('member_ids', sa.JSON(), nullable=False),
    sa.Column('chair_id', sa.Integer(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('share', sa.Boolean(), nullable=False),
    sa.Column('share_with', sa.Text(), nullable=True),
    sa.Column('share_justification', sa.Text(), nullable=True),
    sa.Column('signatory_name', sa.String(length=200), nullable=True),
    sa.Column('signatory_title', sa.String(length=200), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chair_id'], ['users.id'], name=op.f('fk_panel_decisions_chair_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['register_entries.id'], name=op.f('fk_panel_decisions_entry_id_register_entries')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_panel_decisions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_decisions')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_panel_decisions_entry_id'))
    )
    op.create_table('register_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('outcome_notes', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['register_entries.id'], name=op.f('fk_register_appeals_entry_id_register_entries')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_register_appeals_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_appeals'))
    )
    with op.batch_alter_table('register_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_appeals_entry_id'), ['entry_id'], unique=False)

    op.create_table('register_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('exemption', sa.String(length=32), nullable=True),
    sa.Column('exemption_justification', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['register_entries.id'], name=op.f('fk_register_letters_entry_id_register_entries')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_register_letters_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_letters')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_register_letters_entry_id'))
    )
    op.create_table('register_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['register_entries.id'], name=op.f('fk_register_reviews_entry_id_register_entries')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_register_reviews_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_reviews'))
    )
    with op.batch_alter_table('register_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_reviews_entry_id'), ['entry_id'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_references', sa.JSON(), nullable=True))

    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('summary', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('meet_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('end_reason', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_register_entries_proposed_by_id_users'), 'users', ['proposed_by_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_register_entries_proposed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('end_reason')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('meet_by')
        batch_op.drop_column('summary')
        batch_op.drop_column('proposed_by_id')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('case_references')

    with op.batch_alter_table('register_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_reviews_entry_id'))

    op.drop_table('register_reviews')
    op.drop_table('register_letters')
    with op.batch_alter_table('register_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_appeals_entry_id'))

    op.drop_table('register_appeals')
    op.drop_table('panel_decisions')
    with op.batch_alter_table('concern_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_notices_customer_id'))

    op.drop_table('concern_notices')
    op.drop_table('register_reminders')
    op.drop_table('register_counts')
