"""A trainer overturning a false red-line flag (issue 12, item 2): stored, audited, the
flag absent from the drill's one score (`drill_score.current_score`) and so from
certification and the QA form's 一票否决; undone on request."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, FlagOverturn
from app.services import certification as cert
from app.services import flag_review, review, scoring
from app.services.drill_score import current_score
from app.services.score_report import build_report
from tests.fakes.people import trainer_and_trainee
from tests.services.test_certification_service import answer_exam, mark_all, play_drill

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"
NOVERIFY = DATA / "billing_complaint.good.noverify.json"
WHY = "The agent only repeated the amount the customer had just read out."


@pytest.fixture
def people(app):
    coach, trainee = trainer_and_trainee()
    db.session.commit()
    return coach, trainee


def flagged(trainee, rubric_id: str = "standard-100"):
    drill = scoring.import_transcript(NOVERIFY.read_bytes(), NOVERIFY.name, trainee, trainee=trainee,
                                      rubric_id=rubric_id)
    score = scoring.latest_score(drill)
    assert score.flags, "the fixture transcript must raise a red line"
    return drill, score


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_overturn_removes_the_flag_from_the_current_score_and_is_audited(app, people):
    coach, trainee = people
    drill, score = flagged(trainee)
    flag_id = score.flags[0]["id"]
    assert current_score(drill).flagged

    flag_review.overturn(score, coach, flag_id, WHY, score.revision)
    cur = current_score(drill)
    assert flag_id not in [f["id"] for f in cur.flags]
    assert [(o.id, o.reason, o.by) for o in cur.overturned] == [(flag_id, WHY, coach.display_name)]
    assert score.flags[0]["id"] == flag_id  # the machine score keeps its flag
    assert score.revision == 1 and score.reviewed_by_id == coach.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "flag_overturned"))
    assert event.actor_id == coach.id and event.detail["flag_id"] == flag_id and event.detail["reason"] == WHY

    with app.test_request_context():
        view = build_report(drill, "en")
    assert [o.reason for o in view.overturned] == [WHY]
    assert flag_id not in [f["id"] for f in view.flags]


@pytest.mark.parametrize("flag, reason, message", [
    ("no_such_flag", WHY, "has no red-line flag"),
    (None, "  ", "Give a reason for overturning the flag."),
    (None, "x" * 2001, "longer than 2000 characters"),
])
def test_bad_overturn_stores_nothing(people, flag, reason, message):
    coach, trainee = people
    drill, score = flagged(trainee)
    with pytest.raises(review.ReviewError, match=message):
        flag_review.overturn(score, coach, flag or score.flags[0]["id"], reason, score.revision)
    assert db.session.scalar(select(FlagOverturn.id)) is None and "flag_overturned" not in actions()
    assert current_score(drill).flagged and score.revision == 0


def test_twice_from_one_page_is_a_conflict_and_twice_overturned_an_error(people):
    coach, trainee = people
    drill, score = flagged(trainee)
    flag_id = score.flags[0]["id"]
    flag_review.overturn(score, coach, flag_id, WHY, 0)
    with pytest.raises(review.ReviewConflict):
        flag_review.overturn(score, coach, flag_id, WHY, 0)
    with pytest.raises(review.ReviewError, match="already overturned"):
        flag_review.overturn(score, coach, flag_id, WHY, score.revision)
    assert len(flag_review.history(score)) == 1


def test_undo_brings_the_flag_back_and_is_audited(people):
    coach, trainee = people
    drill, score = flagged(trainee)
    flag_id = score.flags[0]["id"]
    with pytest.raises(review.ReviewError, match="not overturned"):
        flag_review.restore(score, coach, flag_id, "", score.revision)
    assert score.revision == 0 and "score_reviewed" not in actions()  # rolled back with the error
    flag_review.overturn(score, coach, flag_id, WHY, score.revision)
    flag_review.restore(score, coach, flag_id, "Listened again: it was a read-back.", score.revision)
    cur = current_score(drill)
    assert flag_id in [f["id"] for f in cur.flags] and cur.overturned == ()
    assert [h.action for h in flag_review.history(score)] == ["overturn", "restore"]
    assert actions()[-2:] == ["flag_overturned", "flag_overturn_undone"]


def test_queue_filter_follows_the_flags_that_stand(people):
    coach, trainee = people
    drill, score = flagged(trainee)
    assert [d.id for d, _ in review.review_queue(coach, review.QueueFilters(flagged=True))] == [drill.id]
    for f in score.flags:
        flag_review.overturn(score, coach, f["id"], WHY, score.revision)
    assert review.review_queue(coach, review.QueueFilters(flagged=True)) == []
    assert [d.id for d, _ in review.review_queue(coach, review.QueueFilters(flagged=False))] == [drill.id]


def test_qa_veto_lifts_when_every_flag_is_overturned(people):
    coach, trainee = people
    drill, score = flagged(trainee, "qa-inspection")
    assert score.report.get("veto") and score.total == 0
    dims = round(sum(v["score"] for v in score.dimensions.values()), 1)
    assert dims > 0
    first, *rest = [f["id"] for f in score.flags]
    flag_review.overturn(score, coach, first, WHY, score.revision)
    if rest:  # one flag still standing: the veto stands too
        assert current_score(drill).total == 0
        for f in rest:
            flag_review.overturn(score, coach, f, WHY, score.revision)
    cur = current_score(drill)
    assert not cur.flagged and cur.total == pytest.approx(dims, abs=0.05)
    assert review.adjusted_view(score)["veto_lifted"]
    flag_review.restore(score, coach, first, "", score.revision)
    assert current_score(drill).total == 0 and current_score(drill).flagged


@pytest.fixture
def cert_people(app, make_user):
    from app.models import Cohort

    trainer = make_user("trainer", username="t-lead")
    cohort = Cohort(name="c1", trainer_id=trainer.id)
    db.session.add(cohort)
    db.session.commit()
    return make_user("trainee", username="cand", cohort=cohort), trainer


def test_certification_counts_a_drill_whose_flag_was_overturned(cert_people):
    """Three drills at 100%, the first with a red line: 0 for it while the flag stands
    (see test_red_line_drill_is_not_counted); overturned, it counts its 20 points."""
    trainee, trainer = cert_people
    attempt = cert.start_attempt(trainee, "core", seed=3)
    answer_exam(attempt)
    first, *rest = attempt.details["drills"]
    drill = play_drill(attempt, first, pct=1.0, flagged=True)
    score = scoring.latest_score(drill)
    flag_review.overturn(score, trainer, "insulted_customer", "A quoted complaint, not the agent's words.", 0)
    for sid in rest:
        play_drill(attempt, sid, pct=1.0)
    mark_all(attempt, trainer, fraction=1.0)
    db.session.refresh(attempt)
    assert attempt.drill_score == 60 and attempt.total == 200
    outcome = attempt.details["outcome"]
    assert first in outcome["counted_drills"]
    assert not any(r["code"] == "drill_red_line" for r in outcome["reasons"])
