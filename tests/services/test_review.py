"""The review service on SQLite and PostgreSQL: adjustments never touch the machine
score, bad input stores nothing, and two trainers from one revision cannot both win."""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.dates import local
from app.extensions import db
from app.models import AuditEvent, CriterionResult, Score, ScoreAdjustment
from app.services import review, scoring
from app.services.accounts import create_user
from tests.fakes.people import trainer_and_trainee

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
GOOD = DATA / "billing_complaint.good.json"
NOVERIFY = DATA / "billing_complaint.good.noverify.json"


@pytest.fixture
def people(any_app):
    coach, trainee = trainer_and_trainee()
    other = create_user("coach2", "password-123", "trainer")
    db.session.commit()
    return coach, other, trainee


def scored(trainee, path=GOOD):
    drill = scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)
    return drill, scoring.latest_score(drill)


def audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def lossy_criterion(score: Score) -> dict:
    """A criterion that lost points, so it can be raised."""
    return next(c for c in score.report["criteria"] if c["score"] < c["max"])


def test_adjust_a_criterion_and_a_dimension(people):
    coach, _, trainee = people
    drill, score = scored(trainee)
    machine = (score.total, dict(score.dimensions), [c.points for c in score.criteria])
    crit = lossy_criterion(score)
    dim = crit["dimension"]
    other_dim = next(d for d in score.dimensions if d != dim)

    review.adjust(score, coach, [("criterion", crit["id"], crit["max"])], "  Evidence missed the check.  ", 0)
    view = review.adjusted_view(score)
    gain = crit["max"] - crit["score"]
    assert view["criteria"][crit["id"]] | {"adjustment": None} == {
        "dimension": dim, "machine": crit["score"], "adjusted": crit["max"], "max": crit["max"], "adjustment": None}
    assert view["dimensions"][dim]["adjusted"] == pytest.approx(min(score.dimensions[dim]["max"],
                                                                   score.dimensions[dim]["score"] + gain))
    assert view["total"] == pytest.approx(score.total + view["dimensions"][dim]["adjusted"]
                                          - score.dimensions[dim]["score"], abs=0.05)

    review.adjust(score, coach, [("dimension", other_dim, 0)], "Rude closing.", 1)
    view = review.adjusted_view(score)
    assert view["dimensions"][other_dim] | {"adjustment": None} == {
        "machine": score.dimensions[other_dim]["score"], "adjusted": 0, "max": score.dimensions[other_dim]["max"],
        "adjustment": None}
    expected = sum(v["adjusted"] for v in view["dimensions"].values())
    assert view["total"] == pytest.approx(expected, abs=0.05)
    assert view["machine_total"] == score.total and view["adjusted"] and len(view["history"]) == 2

    # The machine score is as the scorer left it.
    db.session.expire_all()
    fresh = db.session.get(Score, score.id)
    assert (fresh.total, fresh.dimensions) == machine[:2]
    assert [c.points for c in db.session.scalars(select(CriterionResult).where(
        CriterionResult.score_id == score.id).order_by(CriterionResult.position))] == machine[2]
    assert fresh.revision == 2 and fresh.reviewed_by_id == coach.id and fresh.reviewed_at is not None
    rows = db.session.scalars(select(ScoreAdjustment).order_by(ScoreAdjustment.id)).all()
    assert [(r.target_kind, r.target_id, r.reason) for r in rows] == [
        ("criterion", crit["id"], "Evidence missed the check."), ("dimension", other_dim, "Rude closing.")]
    events = audits("score_adjusted")
    assert [e.detail["target_id"] for e in events] == [crit["id"], other_dim]
    assert events[0].actor_id == coach.id and events[0].target == f"score:{score.id}"
    assert events[0].detail["machine"] == crit["score"] and events[0].detail["reason"] == "Evidence missed the check."


def test_latest_adjustment_wins(people):
    coach, _, trainee = people
    _, score = scored(trainee)
    crit = lossy_criterion(score)
    review.adjust(score, coach, [("criterion", crit["id"], crit["max"])], "first", 0)
    review.adjust(score, coach, [("criterion", crit["id"], 0)], "second thoughts", 1)
    view = review.adjusted_view(score)
    assert view["criteria"][crit["id"]]["adjusted"] == 0
    assert view["criteria"][crit["id"]]["adjustment"].reason == "second thoughts"
    dim = crit["dimension"]
    assert view["dimensions"][dim]["adjusted"] == pytest.approx(max(0, score.dimensions[dim]["score"] - crit["score"]))


@pytest.mark.parametrize("changes, reason, message", [
    ([("criterion", "?", 1)], "ok", "no criterion"),
    ([("dimension", "charm", 1)], "ok", "no dimension"),
    ([("score", "knowledge", 1)], "ok", "Unknown target kind"),
    ([("dimension", "knowledge", 31)], "ok", "from 0 to 30"),
    ([("dimension", "knowledge", -1)], "ok", "from 0 to 30"),
    ([("dimension", "knowledge", "lots")], "ok", "must be a number"),
    ([("dimension", "knowledge", float("nan"))], "ok", "from 0 to"),
    ([("dimension", "knowledge", 10)], "   ", "Give a reason"),
    ([], "ok", "Nothing was changed"),
    ([("dimension", "knowledge", 10), ("dimension", "knowledge", 11)], "ok", "changed twice"),
])
def test_bad_adjustments_store_nothing(people, changes, reason, message):
    coach, _, trainee = people
    _, score = scored(trainee)
    assert score.dimensions["knowledge"]["max"] == 30
    with pytest.raises(review.ReviewError, match=message):
        review.adjust(score, coach, changes, reason, 0)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ScoreAdjustment)) == 0
    assert db.session.get(Score, score.id).revision == 0 and not audits("score_adjusted")


def test_second_trainer_from_the_same_revision_gets_a_conflict(people):
    coach, other, trainee = people
    other.cohorts = []
    _, score = scored(trainee)
    crit = lossy_criterion(score)
    review.adjust(score, coach, [("criterion", crit["id"], crit["max"])], "mine", 0)
    with pytest.raises(review.ReviewConflict) as info:
        review.adjust(score, other, [("dimension", "knowledge", 0)], "theirs", 0)
    assert info.value.current == 1 and info.value.expected == 0
    assert [e.detail["reason"] for e in audits("score_adjusted")] == ["mine"]
    assert [a.reason for a in db.session.scalars(select(ScoreAdjustment))] == ["mine"]
    # After reloading, the second trainer's change goes in on top.
    review.adjust(score, other, [("dimension", "knowledge", 0)], "theirs", 1)
    assert review.adjusted_view(score)["revision"] == 2
    assert [e.detail["reason"] for e in audits("score_adjusted")] == ["mine", "theirs"]


def test_mark_reviewed_and_release(people):
    coach, _, trainee = people
    drill, score = scored(trainee)
    review.mark_reviewed(score, coach, 0)
    assert score.revision == 1 and score.reviewed_by_id == coach.id
    with pytest.raises(review.ReviewConflict):
        review.mark_reviewed(score, coach, 0)
    drill.mode, drill.report_released = "test", False
    db.session.commit()
    assert review.release_report(drill, coach) is True and drill.report_released
    assert review.release_report(drill, coach) is False
    assert [e.target for e in audits("report_released")] == [f"drill:{drill.id}"]
    assert len(audits("score_reviewed")) == 1


def test_queue_filters(people):
    coach, other, trainee = people
    _, good = scored(trainee)
    _, flagged = scored(trainee, NOVERIFY)
    assert flagged.flags and not good.flags
    ids = lambda rows: {s.id for _, s in rows}  # noqa: E731
    assert ids(review.review_queue(coach)) == {good.id, flagged.id}
    assert review.review_queue(other) == []
    assert ids(review.review_queue(coach, review.QueueFilters(flagged=True))) == {flagged.id}
    assert ids(review.review_queue(coach, review.QueueFilters(flagged=False))) == {good.id}
    low = min(good.total, flagged.total)
    assert ids(review.review_queue(coach, review.QueueFilters(score_max=low))) == {
        s.id for s in (good, flagged) if s.total == low}
    assert ids(review.review_queue(coach, review.QueueFilters(scenario_id="billing_complaint",
                                                              trainee_id=trainee.id))) == {good.id, flagged.id}
    assert review.review_queue(coach, review.QueueFilters(scenario_id="5g_plan_launch")) == []
    review.mark_reviewed(good, coach)
    assert ids(review.review_queue(coach, review.QueueFilters(unreviewed=True))) == {flagged.id}
    today = local(good.drill.started_at, "Asia/Shanghai").date()  # the testing config's centre zone
    assert len(review.review_queue(coach, review.QueueFilters(date_from=today, date_to=today))) == 2


def test_date_filters_take_the_centres_day(people, any_app):
    """A drill at 01:00 in Shanghai (17:00 UTC the day before) belongs to the Shanghai day a
    trainer there filters by, not to the UTC one."""
    coach, _, trainee = people
    drill, score = scored(trainee)
    drill.started_at = datetime(2026, 12, 6, 17, 0, tzinfo=timezone.utc)
    db.session.commit()
    any_app.config["CENTRE_TIMEZONE"] = "Asia/Shanghai"
    on = lambda day: {s.id for _, s in review.review_queue(coach, review.QueueFilters(date_from=day, date_to=day))}  # noqa: E731
    assert on(date(2026, 12, 7)) == {score.id} and on(date(2026, 12, 6)) == set()
    any_app.config["CENTRE_TIMEZONE"] = "UTC"
    assert on(date(2026, 12, 6)) == {score.id} and on(date(2026, 12, 7)) == set()


@pytest.mark.postgres
def test_concurrent_adjustments_on_postgres(pg_app):
    """Two threads, two sessions, one revision: exactly one wins, the other conflicts."""
    coach, trainee = trainer_and_trainee()
    db.session.commit()
    _, score = scored(trainee)
    score_id, coach_id = score.id, coach.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(name: str, points: float) -> None:
        with pg_app.app_context():  # a new app context is a new session and connection
            from app.models import User

            me, mine = db.session.get(User, coach_id), db.session.get(Score, score_id)
            barrier.wait()
            try:
                review.adjust(mine, me, [("dimension", "knowledge", points)], name, 0)
                outcomes.append("ok")
            except review.ReviewConflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"t{i}", p)) for i, p in enumerate((5, 25))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    db.session.expire_all()
    assert db.session.get(Score, score_id).revision == 1
    assert db.session.scalar(select(func.count()).select_from(ScoreAdjustment)) == 1
    assert len(audits("score_adjusted")) == 1


def test_comments_are_kept_shown_and_cleared(people):
    """A comment needs no reason and no point change; the latest one of a criterion is in
    force, an empty one clears it, and a comment on no criterion of the score stores nothing."""
    coach, _, trainee = people
    _, score = scored(trainee)
    crit = lossy_criterion(score)
    review.adjust(score, coach, [], "", 0, comments={crit["id"]: "  Say both amounts.  "})
    assert {k: c.text for k, c in review.comments(score).items()} == {crit["id"]: "Say both amounts."}
    assert [a.detail["comment"] for a in audits("review_commented")] == ["Say both amounts."]
    with pytest.raises(review.ReviewError, match="Nothing was changed"):  # the same text again
        review.adjust(score, coach, [], "", 1, comments={crit["id"]: "Say both amounts."})
    with pytest.raises(review.ReviewError, match="no criterion"):
        review.adjust(score, coach, [], "", 1, comments={"nonesuch": "x"})
    with pytest.raises(review.ReviewError, match="longer than"):
        review.adjust(score, coach, [], "", 1, comments={crit["id"]: "x" * (review.COMMENT_MAX + 1)})
    review.adjust(score, coach, [], "", 1, comments={crit["id"]: ""})
    assert review.comments(score) == {}
    assert db.session.get(Score, score.id).revision == 2
