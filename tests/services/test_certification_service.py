"""The certification attempt: draw, exam gate, test-mode drills, case marking, grade."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.core.certification_marking import r2
from app.extensions import db
from app.models import AuditEvent, CaseAnswer, CertificationResult, Cohort, Score
from app.services import certification as cert
from app.services import content, drills, scoring
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def people(any_app, make_user):
    trainer = make_user("trainer", username="t-lead")
    cohort = Cohort(name="c1", trainer_id=trainer.id)
    db.session.add(cohort)
    db.session.commit()
    return make_user("trainee", username="cand", cohort=cohort), trainer


def answer_exam(attempt, right=True, wrong_singles=0):
    track = cert.get_track(attempt.track_id)
    answers = {}
    for i, qid in enumerate(attempt.details["questions"]):
        q = track.question(qid)
        keys = list(q.answer)
        if not right or (q.kind == "single" and i < wrong_singles):
            keys = [next(k for k in q.options if k not in q.answer)]
        answers[qid] = keys
    return cert.submit_exam(attempt, answers)


def play_drill(attempt, sid, pct=0.9, flagged=False):
    drill = cert.start_cert_drill(attempt, sid)
    drills.end_drill(drill)
    rubric = content.rubric_version("standard-100")
    db.session.add(Score(drill_id=drill.id, rubric_version_id=rubric.id, scorer_kind="rules", total=100 * pct,
                         max_total=100, dimensions={}, report={"criteria": []},
                         flags=[{"id": "insulted_customer", "turns": [1], "reason": "x"}] if flagged else []))
    db.session.commit()
    return drill


def mark_all(attempt, trainer, fraction=0.75):
    track = cert.get_track(attempt.track_id)
    for cid in attempt.details["cases"]:
        ans = cert.submit_case(attempt, cid, "先核实身份，再解释原因，最后给出方案。")
        marks = {k.id: r2(k.points * fraction) for k in track.case(cid).key_points}
        cert.mark_case(ans, trainer, marks, "ok")


def test_full_attempt_reaches_a_grade_and_a_result(people):
    trainee, trainer = people
    attempt = cert.start_attempt(trainee, "core", seed=7)
    assert len(attempt.details["questions"]) == 60 and len(attempt.details["drills"]) == 3
    assert attempt.details["track_version"] == cert.get_track("core").version
    with pytest.raises(cert.CertificationError) as exc:
        cert.start_attempt(trainee, "core")
    assert exc.value.status == 409
    assert answer_exam(attempt).total == 100
    for sid in attempt.details["drills"]:
        drill = play_drill(attempt, sid)
        assert drill.mode == "test" and drill.certification_attempt_id == attempt.id and not drill.report_released
    mark_all(attempt, trainer)  # the last mark finalises
    db.session.refresh(attempt)
    assert attempt.status == "marked" and attempt.total == 100 + 54 + 30 and attempt.grade == "excellent"
    result = db.session.scalar(select(CertificationResult).where(CertificationResult.attempt_id == attempt.id))
    assert result.grade == "excellent" and result.total == 184
    assert all(d.report_released for d in cert.attempt_drills(attempt).values())
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"certification_started", "certification_exam_submitted", "certification_drill_started",
            "certification_case_submitted", "case_marked", "certification_finalised"} <= actions


def test_exam_is_a_gate_and_submitted_once(people):
    trainee, trainer = people
    attempt = cert.start_attempt(trainee, "core", seed=1)
    exam = answer_exam(attempt, wrong_singles=15)  # 100 - 15 × 1.6 = 76 < 80
    assert exam.total == 76 and not exam.passed
    with pytest.raises(cert.CertificationError) as exc:
        answer_exam(attempt)
    assert exc.value.status == 409
    for sid in attempt.details["drills"]:
        play_drill(attempt, sid, pct=1.0)
    mark_all(attempt, trainer, fraction=1.0)
    db.session.refresh(attempt)
    assert attempt.total == 176 and attempt.grade == "retake"
    assert db.session.scalar(select(CertificationResult.id)) is None
    assert any(r["code"] == "exam_failed" for r in attempt.details["outcome"]["reasons"])


def test_bad_answers_are_refused(people):
    attempt = cert.start_attempt(people[0], "core", seed=2)
    with pytest.raises(cert.CertificationError) as exc:
        cert.submit_exam(attempt, {"nope": ["A"]})
    assert exc.value.status == 400 and "not in this exam" in exc.value.message


def test_red_line_drill_is_not_counted(people):
    trainee, trainer = people
    attempt = cert.start_attempt(trainee, "core", seed=3)
    answer_exam(attempt)
    first, *rest = attempt.details["drills"]
    play_drill(attempt, first, pct=1.0, flagged=True)
    for sid in rest:
        play_drill(attempt, sid, pct=1.0)
    mark_all(attempt, trainer, fraction=1.0)
    db.session.refresh(attempt)
    assert attempt.drill_score == 40 and attempt.total == 180
    outcome = attempt.details["outcome"]
    assert first not in outcome["counted_drills"]
    assert any(r["code"] == "drill_red_line" for r in outcome["reasons"])


def test_trainer_of_another_cohort_cannot_mark(people, make_user):
    trainee, trainer = people
    stranger = make_user("trainer", username="other-trainer")
    attempt = cert.start_attempt(trainee, "core", seed=4)
    cid = attempt.details["cases"][0]
    ans = cert.submit_case(attempt, cid, "答案")
    with pytest.raises(cert.CertificationError) as exc:
        cert.mark_case(ans, stranger, {}, "")
    assert exc.value.status == 403
    assert cert.marking_queue(stranger) == [] and cert.marking_queue(trainer) == [ans]
    with pytest.raises(cert.CertificationError):  # above the key point's points
        cert.mark_case(ans, trainer, {cert.get_track("core").case(cid).key_points[0].id: 999}, "")


def test_undrawn_drill_and_case_are_refused(people):
    attempt = cert.start_attempt(people[0], "core", seed=5)
    other = next(s for s in cert.get_track("core").drills.pool if s not in attempt.details["drills"])
    with pytest.raises(cert.CertificationError):
        cert.start_cert_drill(attempt, other)
    with pytest.raises(cert.CertificationError):
        cert.submit_case(attempt, "no_such_case", "x")


def test_llm_suggestion_is_stored_and_a_failure_gives_none(people):
    trainee, _ = people
    attempt = cert.start_attempt(trainee, "core", seed=6)
    cid = attempt.details["cases"][0]
    ans = cert.submit_case(attempt, cid, "先核实身份。")
    case = cert.get_track("core").case(cid)
    marks = {k.id: k.points / 2 for k in case.key_points}
    from app.core.llm import LLMClient

    with FakeOpenAI() as fake:
        client = LLMClient(fake.base_url, "k", "fake-model", timeout=2)
        fake.queue("normal", text=json.dumps({"marks": marks, "rationale": "half of each"}))
        got = cert.suggest_case_mark(ans, client)
        assert got["total"] == 10 and db.session.get(CaseAnswer, ans.id).suggestion["marks"] == marks
        ans.suggestion = None
        db.session.commit()
        fake.queue("http_500")
        assert cert.suggest_case_mark(ans, client) is None
        fake.queue("normal", text=json.dumps({"marks": {case.key_points[0].id: 999}}))
        assert cert.suggest_case_mark(ans, client) is None
        fake.queue("normal", text="not json")
        assert cert.suggest_case_mark(ans, client) is None
    assert db.session.get(CaseAnswer, ans.id).suggestion is None
    assert cert.suggest_case_mark(ans) is None  # no OPENAI_BASE_URL configured


def test_attempt_is_graded_on_the_trainers_adjusted_scores(people):
    """Machine 100 on every drill, a trainer sets each to 0 with a reason before the
    attempt is finalised: the attempt is graded on 0, not on the machine's 100."""
    from app.services import review

    trainee, trainer = people
    attempt = cert.start_attempt(trainee, "core", seed=11)
    answer_exam(attempt)
    for sid in attempt.details["drills"]:
        drill = play_drill(attempt, sid, pct=1.0)
        score = scoring.latest_score(drill)  # the one play_drill stored, after the end's own scoring
        score.dimensions = {"knowledge": {"score": 100.0, "max": 100.0}}
        db.session.commit()
        review.adjust(score, trainer, [("dimension", "knowledge", 0)], "keyword list, not a call", 0)
    mark_all(attempt, trainer, fraction=1.0)
    db.session.refresh(attempt)
    assert attempt.status == "marked"
    assert attempt.drill_score == 0
    assert attempt.total == 140  # exam 100 + cases 40 + drills 0 (the machine's 100s would give 200)
    assert attempt.details["outcome"]["counted_drills"] == attempt.details["drills"]


def test_starts_at_once_make_one_drill(people, monkeypatch):
    """Both starts look for the drill before either has stored it (the race), then both
    insert: the database lets one in and the other start returns that same drill."""
    from app.models import Drill

    trainee, _ = people
    attempt = cert.start_attempt(trainee, "core", seed=12)
    sid = attempt.details["drills"][0]
    monkeypatch.setattr(cert, "attempt_drills", lambda a: {})  # neither start sees the other's drill
    first = cert.start_cert_drill(attempt, sid)
    second = cert.start_cert_drill(attempt, sid)
    assert second.id == first.id
    rows = db.session.scalars(select(Drill).where(Drill.certification_attempt_id == attempt.id)).all()
    assert [d.id for d in rows] == [first.id]
    assert first.certification_scenario == sid and first.mode == "test" and not first.report_released
    started = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certification_drill_started")).all()
    assert len(started) == 1
    monkeypatch.undo()
    drills.end_drill(first)
    with pytest.raises(cert.CertificationError) as exc:  # an ended drill is not replayed, race or not
        cert.start_cert_drill(attempt, sid)
    assert exc.value.status == 409


def test_parallel_starts_in_threads_make_one_drill(people, any_app):
    """Two requests at once, each with its own session and connection, both past the
    look-up before either commits (the window is the customer's opening line)."""
    import threading

    from app.models import CertificationAttempt, Drill

    from flask import current_app

    trainee, _ = people
    attempt = cert.start_attempt(trainee, "core", seed=13)
    attempt_id, sid = attempt.id, attempt.details["drills"][0]
    barrier, got, errors = threading.Barrier(2), [], []
    # The app holding `people` (make_user pushes its own), so the threads see the attempt.
    app = current_app._get_current_object()

    def start():
        with app.app_context():
            try:
                own = db.session.get(CertificationAttempt, attempt_id)
                barrier.wait()
                got.append(cert.start_cert_drill(own, sid).id)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(got) == 2 and got[0] == got[1]
    assert db.session.scalars(select(Drill.id).where(Drill.certification_attempt_id == attempt_id)).all() == [got[0]]
