"""Play-test drills (a trainer playing a scenario draft, app/services/authoring.py) count
for no one: every place that lists, counts, scores, exports or notifies drills shows the
trainee's real drill and never the play-test.

The play-tester sits in the trainee's cohort and is made a trainee after the play-test
(roles change, drills stay), so only the mode filter keeps the play-test out: with the
filter gone from a place, that place's case fails."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from flask_login import login_user

from app.extensions import db
from app.models import CertificationAttempt, CertificationResult, RubricVersion
from app.services import analytics, authoring, drills, exports, leaderboard, notifications, progress, review, scoring
from app.services.accounts import create_user
from app.services.drill_turns import post_agent_turn
from app.services.trainee_page import trainee_page
from tests.fakes.people import trainer_and_trainee

SCENARIO = "billing_complaint"
LINES = ("您好，我是10000号客服小李，请问有什么可以帮您？", "好的，我帮您查一下账单。")


def _played(drill):
    """Two agent lines, then the end: ended and scored as any drill."""
    for line in LINES:
        post_agent_turn(drill, line)
    return drills.end_drill(drill, by="trainer")


@pytest.fixture
def world(any_app):
    """Coach's cohort holds the trainee and the play-tester; one real drill each way, both
    scored and reviewed by the coach (a criterion raised), so every place has something."""
    coach, trainee = trainer_and_trainee()
    tester = create_user("tester", "password-123", "trainer", "试玩者", list(trainee.cohorts))
    db.session.commit()
    draft = authoring.edit_draft(tester, SCENARIO, "zh-CN")
    play = _played(authoring.start_playtest(draft, tester))
    persona = drills.scenario_of(play).personas[0].id
    real = _played(drills.start_drill(trainee, SCENARIO, "zh-CN", persona, "scripted"))
    assert play.mode == "playtest" and real.mode == "practice"
    tester.role = "trainee"
    tester.leaderboard_opt_in = trainee.leaderboard_opt_in = True
    db.session.commit()
    for drill in (real, play):
        score = scoring.latest_score(drill)
        assert score is not None, f"drill {drill.id} ({drill.mode}) was not scored"
        lost = next(c for c in score.report["criteria"] if c["score"] < c["max"])
        review.adjust(score, coach, [("criterion", lost["id"], lost["max"])], "复核：证据漏看", 0)
    return {"coach": coach, "trainee": trainee, "tester": tester, "real": real, "play": play, "app": any_app}


def _analytics(w):
    rows = analytics._scored_drills(w["coach"], None, None, None)  # what cohort_analytics counts
    with w["app"].test_request_context():
        assert analytics.cohort_analytics(w["coach"]).n_drills == len(rows)
    return {d.id for d, _s in rows}


def _leaderboard(w):
    board = {row.user.id: row.drills for row in leaderboard.cohort_board(w["trainee"])}
    assert board == {w["trainee"].id: 1}
    return {w["real"].id}


def _review_queue(w):
    return {d.id for d, _s in review.review_queue(w["coach"])}


def _trainer_desk(w):
    return {d.id for d, _s in scoring.recent_drills_for_trainer(w["coach"])}


def _trainee_page(w):
    seen = set()
    for person in (w["trainee"], w["tester"]):
        page = trainee_page(person, "zh-CN")
        seen |= {d.id for d, _c in page.history} | {s.drill.id for s in page.progress.recent}
        seen |= {a.drill.id for a in page.adjustments}
    return seen


def _exports(w):
    """A certification result each (the tester sat it as a trainee): every format names
    both people, and the xAPI drill statements are the certification drill's alone. A
    play-test never belongs to an attempt, so this case guards what is exported rather
    than `_drills_query`'s mode filter: dropping that filter alone does not fail it."""
    when = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    for person in (w["trainee"], w["tester"]):
        attempt = CertificationAttempt(user_id=person.id, track_id="core", status="marked", exam_score=85.0,
                                       drill_score=50.0, case_score=20.0, total=155.0, grade="pass",
                                       details={}, finished_at=when)
        db.session.add(attempt)
        db.session.flush()
        db.session.add(CertificationResult(user_id=person.id, attempt_id=attempt.id, track_id="core",
                                           grade="pass", total=155.0, awarded_at=when))
        if person is w["trainee"]:
            w["real"].certification_attempt_id = attempt.id
    db.session.commit()
    for name in exports.formats():
        out = exports.export(name, exports.ResultFilter(), None, "zh-CN")
        data = b"".join(out.chunks)
        assert out.rows >= 2, name
        if name == "xapi":
            drilled = {s["context"]["extensions"][k] for s in json.loads(data) for k in s.get("context", {})
                       .get("extensions", {}) if k.endswith("/ext/drill")}
            return drilled
    raise AssertionError("no xapi writer")


def _progress(w):
    return {s.drill.id for person in (w["trainee"], w["tester"]) for s in progress.scored_drills(person, released_only=False)}


def _coaching(w):
    """The next-scenario suggestion and the criterion mastery come from real drills only."""
    mine = progress.trainee_progress(w["tester"], "zh-CN", "UTC")
    assert mine.weakest is None and mine.skills == [] and mine.criteria == []
    theirs = progress.trainee_progress(w["trainee"], "zh-CN", "UTC")
    assert theirs.weakest is not None and all(m.drills == 1 for m in theirs.criteria)
    return {w["real"].id}


def _notifications(w):
    """The coach's reviews (the world) noticed the trainee alone; a release would too."""
    assert notifications.report_released(w["play"]) is None
    assert notifications.report_released(w["real"]) is not None
    mine = notifications.for_user(w["tester"])
    assert mine == [], [(n.kind, n.subject_id) for n in mine]
    return {n.subject_id for n in notifications.for_user(w["trainee"]) if n.kind == "review_done"}


def _rescore_candidates(w):
    """Both scores under an older rubric version: the batch re-score offers the real drill only."""
    current = db.session.get(RubricVersion, scoring.current_rubric_version_id())
    older = RubricVersion(rubric_id=current.rubric_id, version=current.version - 1, content_hash="0" * 64,
                          title=current.title, source_path=current.source_path, data=current.data, is_current=False)
    db.session.add(older)
    db.session.flush()
    for drill in (w["real"], w["play"]):
        scoring.latest_score(drill).rubric_version_id = older.id
    db.session.commit()
    from app.trainer.routes import _stale_drills

    with w["app"].test_request_context():
        login_user(w["coach"])
        return {d.id for d in _stale_drills()}


PLACES = {"analytics": _analytics, "leaderboard": _leaderboard, "review_queue": _review_queue,
          "trainer_desk": _trainer_desk, "trainee_page": _trainee_page, "exports": _exports,
          "progress": _progress, "coaching": _coaching, "notifications": _notifications,
          "rescore_candidates": _rescore_candidates}


@pytest.mark.parametrize("place", PLACES)
def test_a_playtest_counts_nowhere(world, place):
    seen = PLACES[place](world)
    assert world["real"].id in seen
    assert world["play"].id not in seen
