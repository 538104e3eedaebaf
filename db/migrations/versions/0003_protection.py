"""protection (issue 19): intake's notes on each message; the event log's hash chains

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        # [{"text": "too many attachments: 4 not kept (limit 30)", "loss": true}, …]
        batch_op.add_column(sa.Column('intake_notes', sa.JSON(), nullable=True))
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('audit_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_table('audit_heads',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # The events written before: chained in id order, so `sportello audit verify` holds from now on.
    from db.audit import chain_existing

    chain_existing(op.get_bind())


def downgrade() -> None:
    # recreate='never': SQLite (3.35+) drops a column in place; copying the table instead
    # would trip the foreign keys of the rows that point at it.
    op.drop_table('audit_heads')
    with op.batch_alter_table('events', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    with op.batch_alter_table('requests', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('audit_hash')
        batch_op.drop_column('audit_seq')
    with op.batch_alter_table('messages', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('intake_notes')
