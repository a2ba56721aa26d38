"""The review queue and review page: who may use them, what they show, bad input,
conflicts between two trainers, report release and CSRF."""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from flask import g
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Cohort, ReviewComment, Score, ScoreAdjustment
from app.services import scoring

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
GOOD = DATA / "billing_complaint.good.json"
NOVERIFY = DATA / "billing_complaint.good.noverify.json"


@pytest.fixture
def cohort(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    return trainer, trainee


def scored(trainee, path=GOOD):
    drill = scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)
    return drill, scoring.latest_score(drill)


def login(auth, user):
    """Log in and read the pages in English, so messages can be checked as written."""
    assert auth.login(user.username).status_code == 302
    auth.client.post("/language/en")


def lossy(score):
    return next(c for c in score.report["criteria"] if c["score"] < c["max"])


def adjustments() -> int:
    return db.session.scalar(select(func.count()).select_from(ScoreAdjustment))


def test_queue_lists_and_filters(client, auth, cohort, make_user):
    trainer, trainee = cohort
    good_drill, good = scored(trainee)
    bad_drill, flagged = scored(trainee, NOVERIFY)
    login(auth, trainer)
    page = client.get("/trainer/review").get_data(as_text=True)
    assert f"/trainer/review/{good_drill.id}" in page and f"/trainer/review/{bad_drill.id}" in page
    page = client.get("/trainer/review?flagged=yes").get_data(as_text=True)
    assert f"/trainer/review/{bad_drill.id}" in page and f"/trainer/review/{good_drill.id}\"" not in page
    r = client.get("/trainer/review?score_min=abc")
    assert r.status_code == 400 and "error" in r.get_data(as_text=True)
    r = client.get("/trainer/review?date_from=2030-01-02&date_to=2030-01-01")
    assert r.status_code == 400 and "The end date is before the start date." in r.get_data(as_text=True)
    assert client.get(f"/trainer/review?trainee={trainee.id}&unreviewed=y").status_code == 200
    # Another trainer's queue does not show them.
    other = make_user("trainer", username="coach2")
    auth.logout()
    login(auth, other)
    assert f"/trainer/review/{good_drill.id}" not in client.get("/trainer/review").get_data(as_text=True)


def test_review_page_shows_machine_and_evidence(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    login(auth, trainer)
    page = client.get(f"/trainer/review/{drill.id}").get_data(as_text=True)
    assert f'name="revision" type="hidden" value="{score.revision}"' in page
    assert f'name="score_id" type="hidden" value="{score.id}"' in page
    for c in score.report["criteria"]:
        assert f'name="criterion-{c["id"]}"' in page
    for d in score.dimensions:
        assert f'name="dimension-{d}"' in page
    assert "<mark>" in page and 'id="turn-0"' in page  # the shared report partial with evidence
    assert " style=" not in page.split("<main", 1)[1]


def _criterion_block(page: str, crit_id: str) -> str:
    """The review form's block of one criterion (its <li class="rv-crit">)."""
    at = page.index(f'name="criterion-{crit_id}"')
    return page[page.rindex('<li class="rv-crit', 0, at):page.index("</li>\n", at)]


def test_review_form_names_each_fact_beside_its_evidence(client, auth, cohort):
    """Each knowledge point by the scenario's own words (not eight identical titles with
    ids), the quoted evidence and turn in the same block as the points and comment inputs,
    and which input wins said on the form."""
    trainer, trainee = cohort
    drill, score = scored(trainee)
    login(auth, trainer)
    page = client.get(f"/trainer/review/{drill.id}").get_data(as_text=True)
    points = drill.scenario_version.data["knowledge_points"]
    assert len(points) > 1
    for kp in points:
        block = _criterion_block(page, f"knowledge_points.{kp['id']}")
        assert kp["text"].replace("<", "&lt;") in block and f'name="comment-knowledge_points.{kp["id"]}"' in block
        assert f">knowledge_points.{kp['id']}<" not in page  # no raw id as visible text
    cited = next(c for c in score.report["criteria"] if c["evidence"])
    block = _criterion_block(page, cited["id"])
    ev = cited["evidence"][0]
    assert f'href="#turn-{ev["turn"]}"' in block and f"<mark>{ev['quote']}</mark>" in block
    assert "Which points count: the machine's points stay on record" in page


def test_comment_without_points_reaches_the_trainee(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    crit = lossy(score)
    login(auth, trainer)
    form = {"score_id": score.id, "revision": 0, "reason": "", f"comment-{crit['id']}": "Name both charges."}
    r = client.post(f"/trainer/review/{drill.id}", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    assert [c.text for c in db.session.scalars(select(ReviewComment))] == ["Name both charges."]
    assert adjustments() == 0  # the unchanged points were not turned into adjustments
    page = client.get(f"/trainer/review/{drill.id}").get_data(as_text=True)
    assert "Name both charges.</textarea>" in _criterion_block(page, crit["id"])
    # Points and a second comment in one save: the trainee reads both beside the criterion.
    form = {"score_id": score.id, "revision": 1, "reason": "Turn 3 did it.", f"criterion-{crit['id']}": f"{crit['max']:g}",
            f"comment-{crit['id']}": "Good: both charges named."}
    assert client.post(f"/trainer/review/{drill.id}", data=form).status_code == 302
    auth.logout()
    login(auth, trainee)
    report = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    assert "Trainer's comment</strong>: Good: both charges named." in report
    assert "Name both charges." not in report  # the earlier comment was replaced
    assert f"{crit['max']:g} / {crit['max']:g} <span class=\"muted\">(machine {crit['score']:g})" in report
    pdf = client.get(f"/trainee/drills/{drill.id}/transcript.pdf")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    assert "Trainer's comment: Good: both charges named." in text


def test_adjust_through_the_page(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    crit = lossy(score)
    login(auth, trainer)
    form = {"score_id": score.id, "revision": 0, "reason": "The check was done on turn 3.",
            f"criterion-{crit['id']}": f"{crit['max']:g}",
            "dimension-knowledge": f"{score.dimensions['knowledge']['score']:g}"}  # unchanged: ignored
    r = client.post(f"/trainer/review/{drill.id}", data=form)
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Adjustment saved." in page and "The check was done on turn 3." in page
    assert f"<strong>{score.total:g}</strong>" in page  # the machine total stays visible
    rows = db.session.scalars(select(ScoreAdjustment)).all()
    assert [(r.target_kind, r.target_id) for r in rows] == [("criterion", crit["id"])]  # unchanged inputs ignored
    db.session.expire_all()
    assert db.session.get(Score, score.id).total == score.total
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "score_adjusted")).actor_id == trainer.id


@pytest.mark.parametrize("extra, message", [
    ({"reason": ""}, "Give a reason for the change."),
    ({"dimension-knowledge": "31"}, "must be from 0 to 30"),
    ({"dimension-knowledge": "abc"}, "must be a number"),
    ({"dimension-knowledge": "-2"}, "must be from 0 to 30"),
])
def test_bad_adjustment_is_400_with_a_message(client, auth, cohort, extra, message):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    login(auth, trainer)
    form = {"score_id": score.id, "revision": 0, "reason": "why", "dimension-knowledge": "1", **extra}
    r = client.post(f"/trainer/review/{drill.id}", data=form)
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    assert adjustments() == 0


def test_no_change_and_missing_revision_are_400(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    login(auth, trainer)
    r = client.post(f"/trainer/review/{drill.id}", data={"score_id": score.id, "revision": 0, "reason": "x"})
    assert r.status_code == 400 and "Nothing was changed: no points and no comments." in r.get_data(as_text=True)
    r = client.post(f"/trainer/review/{drill.id}",
                    data={"score_id": score.id, "reason": "x", "dimension-knowledge": "1"})
    assert r.status_code == 400


def test_two_trainers_from_one_revision(client, auth, cohort, make_user, app):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    second = make_user("trainer", username="coach-b")
    # Two trainers may lead one cohort's review only when both see it: the cohort changes hands.
    login(auth, trainer)
    first = {"score_id": score.id, "revision": 0, "reason": "mine", "dimension-knowledge": "10"}
    assert client.post(f"/trainer/review/{drill.id}", data=first).status_code == 302
    auth.logout()
    trainee.cohorts[0].trainer_id = second.id
    db.session.commit()
    login(auth, second)
    stale = {"score_id": score.id, "revision": 0, "reason": "theirs", "dimension-knowledge": "20"}
    r = client.post(f"/trainer/review/{drill.id}", data=stale)
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "Another trainer saved a review of this score first." in page
    assert 'name="revision" type="hidden" value="1"' in page  # fresh values to start again from
    assert 'name="dimension-knowledge" value="10"' in page
    assert [a.reason for a in db.session.scalars(select(ScoreAdjustment))] == ["mine"]
    assert [e.detail["reason"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "score_adjusted"))] == ["mine"]


def test_rescored_drill_is_a_conflict(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    scoring.score_drill(drill)
    login(auth, trainer)
    r = client.post(f"/trainer/review/{drill.id}",
                    data={"score_id": score.id, "revision": 0, "reason": "x", "dimension-knowledge": "1"})
    assert r.status_code == 409 and adjustments() == 0


def test_mark_reviewed_and_release(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = scored(trainee)
    drill.mode, drill.report_released = "test", False
    db.session.commit()
    login(auth, trainer)
    page = client.get(f"/trainer/review/{drill.id}").get_data(as_text=True)
    assert f"/trainer/review/{drill.id}/release" in page
    assert client.post(f"/trainer/review/{drill.id}/reviewed", data={"revision": 0}).status_code == 302
    assert client.post(f"/trainer/review/{drill.id}/reviewed", data={"revision": 0}).status_code == 409
    assert client.post(f"/trainer/review/{drill.id}/reviewed", data={}).status_code == 400
    assert client.post(f"/trainer/review/{drill.id}/release", data={}).status_code == 302
    db.session.expire_all()
    assert drill.report_released and score.reviewed_by_id == trainer.id
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"score_reviewed", "report_released"} <= actions


def test_other_trainer_gets_404(client, auth, cohort, make_user):
    _, trainee = cohort
    drill, score = scored(trainee)
    login(auth, make_user("trainer", username="coach2"))
    assert client.get(f"/trainer/review/{drill.id}").status_code == 404
    form = {"score_id": score.id, "revision": 0, "reason": "x", "dimension-knowledge": "1"}
    assert client.post(f"/trainer/review/{drill.id}", data=form).status_code == 404
    assert client.post(f"/trainer/review/{drill.id}/reviewed", data={"revision": 0}).status_code == 404
    assert client.post(f"/trainer/review/{drill.id}/release", data={}).status_code == 404
    assert client.get("/trainer/review/999999").status_code == 404
    assert adjustments() == 0


@pytest.mark.parametrize("role", ["trainee", "hr", "admin"])
def test_other_roles_are_refused(client, auth, cohort, make_user, role):
    _, trainee = cohort
    drill, score = scored(trainee)
    login(auth, trainee if role == "trainee" else make_user(role))
    assert client.get("/trainer/review").status_code == 403
    assert client.get(f"/trainer/review/{drill.id}").status_code == 403
    form = {"score_id": score.id, "revision": 0, "reason": "x", "dimension-knowledge": "1"}
    assert client.post(f"/trainer/review/{drill.id}", data=form).status_code == 403  # HR cannot change scores
    assert adjustments() == 0


class TestCsrf:
    @pytest.fixture
    def app(self, app_factory):
        app = app_factory(WTF_CSRF_ENABLED=True)
        with app.app_context():
            yield app

    def test_posts_need_the_token(self, client, cohort):
        trainer, trainee = cohort
        drill, score = scored(trainee)
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'value="([^"]+)"', page.split('name="csrf_token"')[1]).group(1)
        r = client.post("/login", data={"username": trainer.username, "password": "password-123", "csrf_token": token})
        assert r.status_code == 302
        # Flask-WTF caches the token on `g`, which outlives requests here; login resets it.
        g.pop("csrf_token", None)
        form = {"score_id": score.id, "revision": 0, "reason": "x", "dimension-knowledge": "1"}
        for url in (f"/trainer/review/{drill.id}", f"/trainer/review/{drill.id}/reviewed",
                    f"/trainer/review/{drill.id}/release"):
            assert client.post(url, data=form).status_code == 400
        assert adjustments() == 0
        page = client.get(f"/trainer/review/{drill.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post(f"/trainer/review/{drill.id}", data={**form, "csrf_token": token})
        assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
        assert adjustments() == 1
