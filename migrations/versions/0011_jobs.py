"""background jobs and their items

Scoring a finished drill, batch imports of transcripts and re-scores run as Celery tasks.
A job row holds what a person started and how far it got (total, done, failed); its items
hold each file's or drill's outcome. An item leaves `pending` once, in the transaction
that stores its result, so a task re-run after a killed worker does not score twice.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa



revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=64), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_target'), ['target'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_created_by_id'), ['created_by_id'], unique=False)
    op.create_table(
        'job_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('drill_id', sa.Integer(), nullable=True),
        sa.Column('score_id', sa.Integer(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_items_job_id_jobs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['drill_id'], ['drills.id'], name=op.f('fk_job_items_drill_id_drills'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_job_items_score_id_scores'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_items')),
        sa.UniqueConstraint('job_id', 'position', name='uq_job_items_job_position'),
    )
    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_items_job_id'), ['job_id'], unique=False)


def downgrade():
    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_items_job_id'))
    op.drop_table('job_items')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_target'))
        batch_op.drop_index(batch_op.f('ix_jobs_kind'))
    op.drop_table('jobs')
