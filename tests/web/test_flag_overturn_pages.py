"""Overturning a false red-line flag from the trainer's review page: the form, what the
trainee then reads on the report, undoing it, who may do it, and CSRF."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Cohort, FlagOverturn, Score
from app.services import scoring
from app.services.drill_score import current_score

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
NOVERIFY = DATA / "billing_complaint.good.noverify.json"
WHY = "She had read the amount out herself on turn 1: no account fact was disclosed."


@pytest.fixture
def cohort(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    return trainer, trainee


def flagged(trainee):
    drill = scoring.import_transcript(NOVERIFY.read_bytes(), NOVERIFY.name, trainee, trainee=trainee)
    score = scoring.latest_score(drill)
    assert score.flags
    return drill, score


def login(auth, user):
    assert auth.login(user.username).status_code == 302
    auth.client.post("/language/en")


def overturns() -> int:
    return db.session.scalar(select(func.count()).select_from(FlagOverturn))


def form(score, flag_id, reason=WHY, revision=None):
    return {"score_id": score.id, "revision": score.revision if revision is None else revision,
            "flag": flag_id, "reason": reason}


def test_overturn_then_the_trainee_sees_it_then_undo(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = flagged(trainee)
    flag_id = score.flags[0]["id"]
    login(auth, trainer)
    page = client.get(f"/trainer/review/{drill.id}").get_data(as_text=True)
    assert f"/trainer/review/{drill.id}/flags/overturn" in page and f'name="flag" value="{flag_id}"' in page

    r = client.post(f"/trainer/review/{drill.id}/flags/overturn", data=form(score, flag_id))
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Red-line flag overturned." in page and WHY in page
    assert f"/trainer/review/{drill.id}/flags/restore" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "flag_overturned"))
    assert (event.actor_id, event.ip, event.detail["flag_id"], event.detail["reason"]) == (
        trainer.id, "127.0.0.1", flag_id, WHY)

    auth.logout()
    login(auth, trainee)
    report = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    overturned = report.split('id="rp-overturned"', 1)[1].split("</section>", 1)[0]
    assert "Overturned by the trainer" in overturned and WHY in overturned
    assert 'class="card rp-flags"' not in report  # no standing red line left to warn about
    pdf = client.get(f"/trainee/drills/{drill.id}/transcript.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    auth.logout()
    login(auth, trainer)
    db.session.expire_all()
    score = db.session.get(Score, score.id)
    r = client.post(f"/trainer/review/{drill.id}/flags/restore", data=form(score, flag_id, reason=""))
    assert r.status_code == 302
    assert flag_id in [f["id"] for f in current_score(drill).flags]
    assert "flag_overturn_undone" in set(db.session.scalars(select(AuditEvent.action)))
    auth.logout()
    login(auth, trainee)
    report = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    assert 'class="card rp-flags"' in report and 'id="rp-overturned"' not in report


def test_bad_overturns_are_400_or_409_and_store_nothing(client, auth, cohort):
    trainer, trainee = cohort
    drill, score = flagged(trainee)
    flag_id = score.flags[0]["id"]
    login(auth, trainer)
    url = f"/trainer/review/{drill.id}/flags/overturn"
    r = client.post(url, data=form(score, flag_id, reason=" "))
    assert r.status_code == 400 and "Give a reason for overturning the flag." in r.get_data(as_text=True)
    r = client.post(url, data=form(score, "no_such_flag"))
    assert r.status_code == 400 and "has no red-line flag" in r.get_data(as_text=True)
    assert client.post(url, data={"flag": flag_id, "reason": WHY}).status_code == 400
    assert client.post(url, data=form(score, flag_id, revision=5)).status_code == 409
    assert overturns() == 0


@pytest.mark.parametrize("role", ["trainee", "hr", "admin", "other-trainer"])
def test_only_the_cohorts_trainer_may_overturn(client, auth, cohort, make_user, role):
    _, trainee = cohort
    drill, score = flagged(trainee)
    user = trainee if role == "trainee" else make_user("trainer" if role == "other-trainer" else role)
    login(auth, user)
    for action in ("overturn", "restore"):
        r = client.post(f"/trainer/review/{drill.id}/flags/{action}", data=form(score, score.flags[0]["id"]))
        assert r.status_code == (404 if role == "other-trainer" else 403)
    assert overturns() == 0 and current_score(drill).flagged


class TestCsrf:
    @pytest.fixture
    def app(self, app_factory):
        app = app_factory(WTF_CSRF_ENABLED=True)
        with app.app_context():
            yield app

    def test_overturn_needs_the_token(self, client, cohort):
        trainer, trainee = cohort
        drill, score = flagged(trainee)
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'value="([^"]+)"', page.split('name="csrf_token"')[1]).group(1)
        r = client.post("/login", data={"username": trainer.username, "password": "password-123", "csrf_token": token})
        assert r.status_code == 302
        g.pop("csrf_token", None)  # Flask-WTF caches it on `g`, which outlives requests here
        data = form(score, score.flags[0]["id"])
        assert client.post(f"/trainer/review/{drill.id}/flags/overturn", data=data).status_code == 400
        assert overturns() == 0
        page = client.get(f"/trainer/review/{drill.id}").get_data(as_text=True)
        section = page.split('id="review-flags"', 1)[1]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', section).group(1)
        r = client.post(f"/trainer/review/{drill.id}/flags/overturn", data={**data, "csrf_token": token})
        assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
        assert overturns() == 1
