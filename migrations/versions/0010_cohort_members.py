"""people in several cohorts: cohort_members replaces users.cohort_id

A trainee may sit in a new-hire class and a product refresher at once. Each existing
`users.cohort_id` becomes one membership row; the column goes. Downgrading keeps one
cohort per person (the lowest cohort id of each), since the old schema cannot hold more.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 12:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cohort_members',
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_members_cohort_id_cohorts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cohort_members_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cohort_id', 'user_id', name=op.f('pk_cohort_members'))
    )
    with op.batch_alter_table('cohort_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_members_user_id'), ['user_id'], unique=False)
    op.execute("INSERT INTO cohort_members (cohort_id, user_id) "
               "SELECT cohort_id, id FROM users WHERE cohort_id IS NOT NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_users_cohort_id_cohorts'), type_='foreignkey')
        batch_op.drop_column('cohort_id')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohort_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_users_cohort_id_cohorts'), 'cohorts', ['cohort_id'], ['id'],
                                    ondelete='SET NULL')
    op.execute("UPDATE users SET cohort_id = (SELECT min(m.cohort_id) FROM cohort_members m "
               "WHERE m.user_id = users.id)")
    with op.batch_alter_table('cohort_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_members_user_id'))
    op.drop_table('cohort_members')
