"""nodes (issue 20): periodic jobs claimed once per period across nodes; verification and outgoing
mail claimed by a node with a time limit (a killed node's work is taken over); the stale-mailbox alert

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per (job, period): the node whose INSERT lands runs the job for that period.
    op.create_table('job_runs',
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('node', sa.String(length=120), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', 'period_start')
    )
    with op.batch_alter_table('mailbox_states', schema=None) as batch_op:
        # When the administrators were told this mailbox went stale; cleared (and told) on recovery.
        batch_op.add_column(sa.Column('stale_alerted_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('requests', schema=None) as batch_op:
        # The node verifying it, and until when: past that, another node takes it over.
        batch_op.add_column(sa.Column('verify_owner', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('verify_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        # The node sending it, and since when (status 'sending').
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outgoing_mails', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
    with op.batch_alter_table('requests', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('verify_until')
        batch_op.drop_column('verify_owner')
    with op.batch_alter_table('mailbox_states', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('stale_alerted_at')
    op.drop_table('job_runs')
