"""one end-of-call score per drill

Six "end" requests at once each found the drill ended and unscored (the first one was
still scoring) and each stored a score. `origin` marks the score a drill gets when its
call ends ("end"; re-scores leave it NULL), and a unique constraint on (drill, origin)
lets only one of the racing scorers in. Existing drills' first score becomes their end
score.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=16), nullable=True))
    op.execute("UPDATE scores SET origin = 'end' WHERE id = (SELECT min(s2.id) FROM scores s2 "
               "WHERE s2.drill_id = scores.drill_id)")
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_scores_drill_origin', ['drill_id', 'origin'])


def downgrade():
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_constraint('uq_scores_drill_origin', type_='unique')
        batch_op.drop_column('origin')
