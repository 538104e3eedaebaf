"""protection: the notes intake made on each message (issue 19)

Revision ID: 0003
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        # [{"text": "too many attachments: 4 not kept (limit 30)", "loss": true}, …]
        batch_op.add_column(sa.Column('intake_notes', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('intake_notes')
