"""review comments: a trainer's comment per criterion of a score

The review form gains a comment box beside each criterion; the trainee reads the
comment on the report next to the adjusted points. Rows are only added: the latest
row of a (score, criterion) is the comment in force, an empty text clears it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_review_comments_reviewer_id_users')),
    sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_review_comments_score_id_scores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_comments'))
    )
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_comments_score_id'), ['score_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_comments_score_id'))
    op.drop_table('review_comments')
