"""session versions, login throttle counters, aggregated audit rows

`users.session_version` is part of every session cookie's user id: raising it (logout,
password reset, role change, deactivation) ends every session of that user at once.
Cookies issued before this revision carry no version and are refused, so everyone logs
in once more after the upgrade.

`login_throttles` holds the failed-login counters per account and per client address
(compare-and-set on `version`); `audit_events.count` lets one row stand for the
anonymous failed logins of one address in one window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count', sa.Integer(), server_default='1', nullable=False))
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttles_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttles_updated_at'))
    op.drop_table('login_throttles')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('count')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
