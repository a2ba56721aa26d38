"""a drill's end-of-call scoring is claimed by one request

Six parallel "end" requests stored one score (0007) but each ran the scorer: every
request that found the drill ended and unscored scored it, and all but one insert
failed. `scoring_claimed_at` is set by a conditional UPDATE before scoring; the request
that sets it scores, the others wait for its score (or take over a claim left by a
scorer that died).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scoring_claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.drop_column('scoring_claimed_at')
