"""one drill per drawn scenario of a certification attempt

Two starts of the same certification drill at once (two tabs, a double click) each
found no drill and created one. `certification_scenario` names the drawn scenario a
drill plays for its attempt, and a unique constraint on (attempt, scenario) lets only
one of them in. Existing certification drills get their scenario id; where an attempt
already has two drills on one scenario only the newest (the one grading reads) gets it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 05:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certification_scenario', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE drills SET certification_scenario = "
        "(SELECT v.scenario_id FROM scenario_versions v WHERE v.id = drills.scenario_version_id) "
        "WHERE certification_attempt_id IS NOT NULL AND id = ("
        " SELECT max(d2.id) FROM drills d2 JOIN scenario_versions v2 ON v2.id = d2.scenario_version_id"
        " WHERE d2.certification_attempt_id = drills.certification_attempt_id"
        " AND v2.scenario_id = (SELECT v3.scenario_id FROM scenario_versions v3"
        "                       WHERE v3.id = drills.scenario_version_id))")
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_drills_attempt_scenario',
                                          ['certification_attempt_id', 'certification_scenario'])


def downgrade():
    with op.batch_alter_table('drills', schema=None) as batch_op:
        batch_op.drop_constraint('uq_drills_attempt_scenario', type_='unique')
        batch_op.drop_column('certification_scenario')
