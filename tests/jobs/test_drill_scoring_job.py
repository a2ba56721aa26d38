"""A drill's end score as a background job: with a broker the ending request returns
before the score exists and the report says "scoring" (refreshing itself) until the job
has run; a failed job shows on the report with a retry that works."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Drill, Job, Score
from app.services import jobs, scoring
from tests.web.test_drill_pages import GOOD, JSON, post_turn


def start(client) -> str:
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "7"})
    assert r.status_code == 302, r.data[:500]
    return r.headers["Location"]


def end_call(client, url) -> Drill:
    post_turn(client, url, text=GOOD[0])
    r = client.post(url + "/end", headers=JSON, json={})
    assert r.status_code == 200
    return db.session.get(Drill, r.get_json()["drill"]["id"])


class TestQueued:
    """A broker (kombu's in-process memory transport; no worker runs): jobs wait."""

    @pytest.fixture
    def app(self, app_factory):
        app = app_factory(CELERY_ALWAYS_EAGER=False, CELERY_BROKER_URL="memory://")
        with app.app_context():
            yield app

    def test_the_end_returns_before_the_score_and_the_report_waits_for_it(self, client, login_as):
        login_as("trainee")
        drill = end_call(client, start(client))
        assert drill.status == "ended"
        assert scoring.latest_score(drill) is None  # not scored inside the ending request
        job = jobs.scoring_job(drill)
        assert job is not None and job.status == "queued"

        page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
        assert "正在评分" in page and 'http-equiv="refresh"' in page
        # The page's own refreshes do not queue the job again while it is young.
        assert db.session.scalar(select(db.func.count(Job.id)).where(Job.kind == "score_drill")) == 1

        jobs.run_score_drill(job.id)  # what the worker does
        page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
        assert "正在评分" not in page and 'http-equiv="refresh"' not in page
        assert db.session.scalars(select(Score).where(Score.drill_id == drill.id)).all()[0].origin == "end"
        assert db.session.get(Job, job.id).status == "done"

    def test_a_job_run_twice_stores_one_score(self, client, login_as):
        login_as("trainee")
        drill = end_call(client, start(client))
        job = jobs.scoring_job(drill)
        jobs.run_score_drill(job.id)
        db.session.execute(db.update(Job).where(Job.id == job.id).values(status="running"))
        db.session.commit()
        jobs.run_score_drill(job.id)  # a redelivery after a worker died before its ack
        assert len(db.session.scalars(select(Score).where(Score.drill_id == drill.id)).all()) == 1

    def test_the_english_page_says_scoring_too(self, client, login_as):
        login_as("trainee")
        drill = end_call(client, start(client))
        with client.session_transaction() as session:
            session["lang"] = "en"
        page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
        assert "Scoring the call" in page


def test_a_failed_score_shows_on_the_report_with_a_retry(client, login_as, monkeypatch):
    login_as("trainee")
    url = start(client)

    def broken(drill):
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(scoring, "score_on_end", broken)
    drill = end_call(client, url)
    assert jobs.scoring_job(drill).status == "failed"
    page = client.get(f"/trainee/drills/{drill.id}/report").get_data(as_text=True)
    assert "评分失败" in page and "重新评分" in page and 'http-equiv="refresh"' not in page

    monkeypatch.undo()
    r = client.post(f"/trainee/drills/{drill.id}/score")
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "评分失败" not in page and scoring.latest_score(drill) is not None
