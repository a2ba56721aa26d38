"""One score per drill: `drill_score.current_score` (machine, then the trainer's review,
then hints) and every consumer reading it rather than adding up a total of its own."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Assignment, AssignmentTarget
from app.services import assignments, exports, progress, review, scoring
from app.services.drill_score import combine, current_score
from app.services.score_report import build_report
from tests.fakes.people import trainer_and_trainee

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "tests" / "data" / "transcripts" / "billing_complaint.good.json"


@pytest.fixture
def people(app):
    coach, trainee = trainer_and_trainee()
    db.session.commit()
    return coach, trainee


def scored(trainee):
    drill = scoring.import_transcript(GOOD.read_bytes(), GOOD.name, trainee, trainee=trainee)
    return drill, scoring.latest_score(drill)


def lower(score, coach, reason="Keyword list, not a conversation."):
    """Set the score's largest dimension to 0 and return the points taken off."""
    dim, v = max(score.dimensions.items(), key=lambda kv: kv[1]["score"])
    review.adjust(score, coach, [("dimension", dim, 0)], reason, score.revision)
    return v["score"]


def test_combine_takes_hints_off_last_and_stays_in_range():
    assert combine(80.0, 100.0, 3, 2.0) == (6.0, 74.0)
    assert combine(80.0, 100.0, 0, 2.0) == (0.0, 80.0)
    assert combine(3.0, 100.0, 5, 2.0) == (10.0, 0.0)  # never below 0
    assert combine(80.0, 100.0, 2, 1.25) == (2.5, 77.5)


def test_machine_then_review_then_hints(people):
    coach, trainee = people
    drill, score = scored(trainee)
    plain = current_score(drill)
    assert (plain.total, plain.machine_total, plain.adjusted, plain.reason) == (score.total, score.total, False, None)

    lost = lower(score, coach)
    drill.hints_used = 2
    db.session.commit()
    cur = current_score(drill)
    assert cur.machine_total == score.total  # the machine's figure stays as it was
    assert cur.reviewed_total == pytest.approx(score.total - lost, abs=0.05)
    assert cur.hint_penalty == 4.0  # two hints at the app's HINT_PENALTY of 2
    assert cur.total == pytest.approx(max(0.0, cur.reviewed_total - 4.0), abs=0.05)
    assert cur.adjusted and cur.reason == "Keyword list, not a conversation."
    assert [(c.kind, c.machine, c.adjusted) for c in cur.changes] == [("dimension", lost, 0)]


def test_assignment_price_per_hint_counts(people):
    coach, trainee = people
    drill, score = scored(trainee)
    a = Assignment(created_by_id=coach.id, title="t", scenario_ids=["billing_complaint"], hint_penalty=5.0)
    db.session.add(a)
    db.session.flush()
    drill.assignment_id, drill.hints_used = a.id, 1
    db.session.commit()
    assert current_score(drill).total == pytest.approx(max(0.0, score.total - 5.0))


def test_report_pdf_lists_and_exports_show_the_same_total(app, people):
    coach, trainee = people
    drill, score = scored(trainee)
    lower(score, coach)
    drill.hints_used = 1
    db.session.commit()
    total = current_score(drill).total
    assert total != score.total

    with app.test_request_context():
        view = build_report(drill, "zh-CN")
    assert view.total == total and view.changes[0].reason == "Keyword list, not a conversation."
    assert sum(d.score for d in view.dimensions) == pytest.approx(current_score(drill).reviewed_total, abs=0.1)
    assert any(d.machine is not None for d in view.dimensions)  # the machine's points stay visible

    assert progress.scored_drills(trainee)[0].total == total
    later, _ = scored(trainee)
    with app.test_request_context():
        attempts = build_report(later, "zh-CN").attempts
    assert [(d.id, c.total) for d, c in attempts] == [(drill.id, total)]
    assert [current_score(d, s).total for d, s in review.review_queue(coach, review.QueueFilters(score_max=total))
            if d.id == drill.id] == [total]
    assert review.review_queue(coach, review.QueueFilters(score_min=total + 0.1, score_max=total + 0.1)) == []


def test_held_back_score_shows_nowhere_for_the_trainee(people):
    coach, trainee = people
    a = Assignment(created_by_id=coach.id, title="test", scenario_ids=["billing_complaint"], mode="test",
                   report_release="trainer", pass_mark=1.0)
    db.session.add(a)
    db.session.flush()
    db.session.add(AssignmentTarget(assignment_id=a.id, user_id=trainee.id))
    drill, score = scored(trainee)
    drill.assignment_id, drill.report_released = a.id, False
    db.session.commit()

    item = next(i for i in assignments.assignments_for_trainee(trainee) if i["id"] == a.id)
    assert item["attempts"] == 1 and item["best_total"] is None and not item["passed"]
    assert progress.scored_drills(trainee) == []
    assert current_score(drill).released is False
    # The trainer sees it all along.
    assert assignments.assignment_progress(a)[0]["best_total"] == current_score(drill).total

    review.release_report(drill, coach)
    item = next(i for i in assignments.assignments_for_trainee(trainee) if i["id"] == a.id)
    assert item["best_total"] == current_score(drill).total


def test_xapi_drill_statements_carry_the_current_score(people, monkeypatch):
    coach, trainee = people
    drill, score = scored(trainee)
    lower(score, coach)
    monkeypatch.setattr(exports, "_attempts_query", lambda f: _no_attempts())
    monkeypatch.setattr(exports, "_drills_query", lambda f: _only(drill))
    statements = json.loads(b"".join(exports.write_xapi(exports.ResultFilter())))
    assert [s["result"]["score"]["raw"] for s in statements] == [current_score(drill).total]


def _no_attempts():
    from sqlalchemy import false, select

    from app.models import CertificationAttempt, User
    A = CertificationAttempt
    return select(A.id, A.user_id, A.track_id, A.grade, A.total, A.finished_at, User.username).join(
        User, A.user_id == User.id).where(false())


def _only(drill):
    from sqlalchemy import func, select

    from app.models import Drill, ScenarioVersion, Score, User
    newest = select(func.max(Score.id)).where(Score.drill_id == Drill.id).correlate(Drill).scalar_subquery()
    return (select(Drill, Score, ScenarioVersion.scenario_id, User.username)
            .join(User, Drill.trainee_id == User.id).join(ScenarioVersion, Drill.scenario_version_id == ScenarioVersion.id)
            .join(Score, Score.id == newest).where(Drill.id == drill.id))


# Reading a Score's own total (or pricing hints) is the current score's job. These few
# places may: the current score itself, the review that replays adjustments on the
# machine total, the scorer's audit entry, the upload answer (a score just made, with
# nothing to adjust yet) and the agreement chart (machine against trainer on purpose).
ALLOWED = {
    "app/services/drill_score.py", "app/services/review.py", "app/services/scoring.py",
    "app/trainer/routes.py", "app/services/analytics.py",
    # A batch or re-score item records the machine score it has just made (a new row: no
    # trainer adjustment, no hints yet), as the job's per-file result.
    "app/services/jobs.py",
}
RAW_TOTAL = re.compile(r"\b(?:score|Score)\.total\b|hints_used\s*\)?\s*\*|\*\s*\(?drill\.hints_used")


def test_no_module_adds_up_a_total_of_its_own():
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if RAW_TOTAL.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == [], "read the drill's total from drill_score.current_score:\n" + "\n".join(offenders)
    analytics = (ROOT / "app/services/analytics.py").read_text(encoding="utf-8")
    assert len(re.findall(r"\bscore\.total\b", analytics)) == 1  # only the agreement's machine side


def test_no_template_reads_a_machine_score_total():
    offenders = []
    for path in sorted((ROOT / "app" / "templates").rglob("*.html")):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        for pattern in (r"latest_score\(", r"view\.score\.total", r"\.hints_used\s*\*"):
            if re.search(pattern, text):
                offenders.append(f"{rel}: {pattern}")
    assert offenders == []
