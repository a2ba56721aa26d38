"""scenario drafts written in the browser, draft versions for play-tests

A trainer writes or changes a scenario in the browser: the draft (YAML and its two agent
scripts) is kept in `scenario_drafts` until it is published. A play-test plays the
draft's content as a `scenario_versions` row marked `is_draft` (never current, numbered
below zero), so its drill points at the exact content played, like any other drill.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scenario_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_draft', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'scenario_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scenario_id', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('yaml_text', sa.Text(), nullable=False),
        sa.Column('good_script', sa.Text(), nullable=False),
        sa.Column('bad_script', sa.Text(), nullable=False),
        sa.Column('base_version_id', sa.Integer(), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('published_version_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_scenario_drafts_author_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['base_version_id'], ['scenario_versions.id'],
                                name=op.f('fk_scenario_drafts_base_version_id_scenario_versions'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['published_version_id'], ['scenario_versions.id'],
                                name=op.f('fk_scenario_drafts_published_version_id_scenario_versions'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_drafts')),
    )
    with op.batch_alter_table('scenario_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_drafts_scenario_id'), ['scenario_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_drafts_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_drafts_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('scenario_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_drafts_status'))
        batch_op.drop_index(batch_op.f('ix_scenario_drafts_author_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_drafts_scenario_id'))
    op.drop_table('scenario_drafts')
    with op.batch_alter_table('scenario_versions', schema=None) as batch_op:
        batch_op.drop_column('is_draft')
