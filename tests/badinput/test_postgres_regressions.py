"""Defects the bad-input suites exposed that only PostgreSQL shows."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.postgres


def test_trainee_home_and_assigned_start_on_postgresql(pg_app):
    # Was: SELECT DISTINCT over assignments, whose JSON column has no equality operator in
    # PostgreSQL: the trainee home and starting an assigned drill were a 500 there.
    from app.extensions import db
    from app.models import Assignment, AssignmentTarget, Cohort
    from app.services.accounts import create_user
    from app.services.assignments import assignments_for_trainee

    trainer = create_user("pg-trainer", "password-123", "trainer", None, None)
    cohort = Cohort(name="pg-cohort")
    db.session.add(cohort)
    db.session.flush()
    trainee = create_user("pg-trainee", "password-123", "trainee", None, cohort)
    assignment = Assignment(created_by_id=trainer.id, title="drill it", scenario_ids=["billing_complaint"],
                            language="zh-CN", mode="practice")
    db.session.add(assignment)
    db.session.flush()
    # Reaches the trainee twice (by cohort and by name): still listed once.
    db.session.add_all([AssignmentTarget(assignment_id=assignment.id, cohort_id=cohort.id),
                        AssignmentTarget(assignment_id=assignment.id, user_id=trainee.id)])
    db.session.commit()
    assert [a["title"] for a in assignments_for_trainee(trainee)] == ["drill it"]
    client = pg_app.test_client()
    assert client.post("/login", data={"username": "pg-trainee", "password": "password-123"}).status_code == 302
    page = client.get("/trainee/")
    assert page.status_code == 200 and "drill it" in page.get_data(as_text=True)
