"""flag overturns: a trainer overturns a false red-line flag with a reason, or undoes it

A red-line flag zeroes a drill in certification and, on the QA form, its total
(一票否决). When a trainer finds the flag false, a `flag_overturns` row records who,
why and when; the latest row of a (score, flag) says whether the flag stands. The
machine score and its flags are never changed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 09:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flag_overturns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.String(length=64), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_flag_overturns_reviewer_id_users')),
    sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_flag_overturns_score_id_scores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_overturns'))
    )
    with op.batch_alter_table('flag_overturns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_overturns_score_id'), ['score_id'], unique=False)


def downgrade():
    with op.batch_alter_table('flag_overturns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_overturns_score_id'))
    op.drop_table('flag_overturns')
