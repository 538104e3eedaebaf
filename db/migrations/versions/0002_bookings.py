"""bookings: the identification calls (issue 16)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 06:15:44.976686
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=2), nullable=False),
    sa.Column('desk', sa.Integer(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('active_request_id', sa.Integer(), nullable=True),
    sa.Column('active_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('operator', sa.String(length=80), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reschedules', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=120), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('reminder_24h_for', sa.Integer(), nullable=True),
    sa.Column('reminder_1h_for', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['province'], ['offices.province'], ),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('active_request_id', name='uq_booking_active_request'),
    sa.UniqueConstraint('province', 'desk', 'active_start', name='uq_booking_slot'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_start'), ['start'], unique=False)
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry_notice_for', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('expiry_notice_for')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_start'))
        batch_op.drop_index(batch_op.f('ix_bookings_request_id'))

    op.drop_table('bookings')
