"""certificates: a verification code and a validity period

A certificate can be checked by anyone on the public page /verify/<code>, so each
result gets a long random code (unique); `valid_until` holds the end of its validity
(the track's valid_months at award time; NULL: no expiry). Certificates issued before
this revision get a code here, and no expiry (their track had none).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:45:00

"""
import secrets
import string

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The alphabet and length of app.core.certification_policy (copied: a migration must not
# change when the app's code does).
ALPHABET = string.digits + "".join(c for c in string.ascii_uppercase if c not in "ILOU")


def upgrade():
    with op.batch_alter_table('certification_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    results = sa.table('certification_results', sa.column('id', sa.Integer),
                       sa.column('verification_code', sa.String))
    for (rid,) in conn.execute(sa.select(results.c.id)).all():
        code = "".join(secrets.choice(ALPHABET) for _ in range(20))
        conn.execute(results.update().where(results.c.id == rid).values(verification_code=code))
    with op.batch_alter_table('certification_results', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_certification_results_verification_code', ['verification_code'])


def downgrade():
    with op.batch_alter_table('certification_results', schema=None) as batch_op:
        batch_op.drop_constraint('uq_certification_results_verification_code', type_='unique')
        batch_op.drop_column('valid_until')
        batch_op.drop_column('verification_code')
