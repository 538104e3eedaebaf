"""identification (issue 17): one row per identification call; bands and outcomes only

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No distance, frame, encoding or code: only what the operator saw (bands, yes/no) and decided.
    op.create_table('identifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('province', sa.String(length=2), nullable=False),
    sa.Column('operator', sa.String(length=80), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('face_band', sa.String(length=20), nullable=True),
    sa.Column('liveness_passed', sa.Boolean(), nullable=True),
    sa.Column('channel_verified', sa.Boolean(), nullable=True),
    sa.Column('channel_masked', sa.String(length=80), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('supervisor', sa.String(length=80), nullable=True),
    sa.Column('supervisor_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    # Set once, by the compare-and-swap of the release (calls.release).
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('identifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identifications_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('identifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identifications_request_id'))
    op.drop_table('identifications')
