"""Assignments: validation, targets limited to the trainer's cohorts, and progress per trainee."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Cohort
from app.models.base import utcnow
from app.services import assignments as service
from app.services import review, scoring
from app.services.accounts import create_user
from app.services.drill_score import current_score

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
GOOD = DATA / "billing_complaint.good.json"
NOVERIFY = DATA / "billing_complaint.good.noverify.json"


@pytest.fixture
def people(app):
    coach = create_user("coach", "password-123", "trainer")
    other = create_user("coach2", "password-123", "trainer")
    db.session.flush()
    group, elsewhere = Cohort(name="一班", trainer_id=coach.id), Cohort(name="二班", trainer_id=other.id)
    db.session.add_all([group, elsewhere])
    db.session.flush()
    a = create_user("xiaowang", "password-123", "trainee", "小王", group)
    b = create_user("xiaoli", "password-123", "trainee", "小李", group)
    stranger = create_user("outsider", "password-123", "trainee", "外人", elsewhere)
    db.session.commit()
    return coach, other, group, elsewhere, (a, b, stranger)


def spec(**kw) -> service.AssignmentSpec:
    base = dict(title="账单投诉练习", scenario_ids=["billing_complaint"], min_attempts=2, pass_mark=60)
    return service.AssignmentSpec(**{**base, **kw})


def attempt(trainee, assignment, path=GOOD, hints=0):
    drill = scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)
    drill.assignment_id, drill.hints_used = assignment.id, hints
    db.session.commit()
    return drill


def test_create_and_audit(people):
    coach, _, group, _, (a, b, _) = people
    created = service.create_assignment(coach, spec(cohort_ids=[group.id], due_at=utcnow() + timedelta(days=3)))
    assert created.id and created.active and [t.cohort_id for t in created.targets] == [group.id]
    assert service.assignments_of(coach) == [created]
    assert {u.username for u in service.assigned_trainees(created)} == {a.username, b.username}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment_created"))
    assert event.target == f"assignment:{created.id}" and event.actor_id == coach.id
    test = service.create_assignment(coach, spec(mode="test", report_release="trainer", user_ids=[b.id]))
    assert test.hints_allowed is False  # test mode never offers hints


@pytest.mark.parametrize("kw, message", [
    ({"scenario_ids": []}, "at least one scenario"),
    ({"scenario_ids": ["nope"]}, "No scenario nope"),
    ({"persona": "martian"}, "persona"),
    ({"mode": "exam"}, "practice or test"),
    ({"report_release": "trainer"}, "test mode only"),
    ({"min_attempts": 0}, "from 1 to 50"),
    ({"pass_mark": 101}, "0 to 100"),
    ({"title": "  "}, "title"),
    ({"due_at": utcnow() - timedelta(days=1)}, "future"),
    ({"cohort_ids": []}, "one of your cohorts"),
])
def test_bad_input(people, kw, message):
    coach, _, group, _, _ = people
    with pytest.raises(service.AssignmentError, match=message):
        service.create_assignment(coach, spec(**{"cohort_ids": [group.id], **kw}))
    assert service.assignments_of(coach) == []


def test_targets_must_be_the_trainers(people):
    coach, _, _, elsewhere, (_, _, stranger) = people
    with pytest.raises(service.AssignmentError, match="cohorts you lead"):
        service.create_assignment(coach, spec(cohort_ids=[elsewhere.id]))
    with pytest.raises(service.AssignmentError, match="trainees of your cohorts"):
        service.create_assignment(coach, spec(user_ids=[stranger.id]))
    assert service.assignment_for_trainer(coach, 12345) is None


def test_progress_for_trainee_and_trainer(people):
    coach, other, group, _, (a, b, stranger) = people
    chosen = service.create_assignment(coach, spec(user_ids=[a.id], due_at=utcnow() + timedelta(days=1)))
    cohort_wide = service.create_assignment(coach, spec(title="全班", cohort_ids=[group.id], pass_mark=100))
    assert service.assignment_for_trainer(other, chosen.id) is None
    assert service.assignments_for_trainee(stranger) == []
    assert [i["id"] for i in service.assignments_for_trainee(b)] == [cohort_wide.id]

    first = attempt(a, chosen)
    score = scoring.latest_score(first)
    item = next(i for i in service.assignments_for_trainee(a) if i["id"] == chosen.id)
    assert item["attempts"] == 1 and item["best_total"] == score.total and not item["passed"]
    assert set(item) >= {"assignment", "title", "scenario_ids", "mode", "due_at", "min_attempts", "pass_mark",
                         "attempts", "best_total", "passed", "overdue"}
    # Order: soonest due first, no due date last.
    assert [i["id"] for i in service.assignments_for_trainee(a)] == [chosen.id, cohort_wide.id]

    attempt(a, chosen, hints=2)  # a hint costs hint_penalty points off that attempt
    item = next(i for i in service.assignments_for_trainee(a) if i["id"] == chosen.id)
    assert item["attempts"] == 2 and item["passed"] == (score.total >= 60)

    # A trainer's adjustment counts: the adjusted total is the one judged.
    review.adjust(score, coach, [("dimension", d, 0) for d in score.dimensions], "replayed the call", 0)
    lost = sum(v["score"] for v in score.dimensions.values())
    assert current_score(score.drill).reviewed_total == pytest.approx(score.total - lost)
    rows = service.assignment_progress(chosen)
    assert [r["user"].id for r in rows] == [a.id]
    assert rows[0]["best_total"] == pytest.approx(max(0.0, score.total - 2 * chosen.hint_penalty))


def test_red_line_attempt_never_passes_and_overdue(people):
    coach, _, group, _, (a, _, _) = people
    assignment = service.create_assignment(coach, spec(cohort_ids=[group.id], min_attempts=1, pass_mark=0))
    attempt(a, assignment, NOVERIFY)
    assignment.due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    item = service.assignments_for_trainee(a)[0]
    assert item["attempts"] == 1 and item["best_total"] is not None
    assert not item["passed"] and item["overdue"]
    attempt(a, assignment)
    item = service.assignments_for_trainee(a)[0]
    assert item["passed"] and not item["overdue"]


def test_deactivate(people):
    coach, _, group, _, (a, _, _) = people
    assignment = service.create_assignment(coach, spec(cohort_ids=[group.id]))
    assert service.deactivate(assignment, coach) and not service.deactivate(assignment, coach)
    assert service.assignments_for_trainee(a) == []
    assert len(service.assignments_for_trainee(a, include_inactive=True)) == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment_deactivated"))
