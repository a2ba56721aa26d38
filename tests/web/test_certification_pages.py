"""The trainee's certification flow in the browser: start, exam, drills, cases."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import CaseAnswer, CertificationAttempt
from app.services import certification as cert


def test_trainee_flow_through_exam_and_cases(client, login_as):
    trainee = login_as("trainee")
    assert "core" in client.get("/trainee/certification/").text
    page = client.get("/trainee/certification/core")
    assert page.status_code == 200
    assert client.post("/trainee/certification/core/start").status_code == 302
    assert client.post("/trainee/certification/core/start").status_code == 303  # one open attempt
    attempt = db.session.query(CertificationAttempt).filter_by(user_id=trainee.id).one()
    assert "开始答题" in client.get("/trainee/certification/core/exam").text  # the rules first, no clock yet
    assert client.post("/trainee/certification/core/exam/begin").status_code == 302
    exam = client.get("/trainee/certification/core/exam")  # page 1 of 6: ten single-choice questions
    assert exam.text.count('name="shown"') == 10 and exam.text.count('type="radio"') == 40
    assert 'type="checkbox"' in client.get("/trainee/certification/core/exam?page=6").text
    track = cert.get_track("core")
    form = {}
    for qid in attempt.details["questions"]:
        form[qid] = list(track.question(qid).answer)
    done = client.post("/trainee/certification/core/exam", data=form)
    assert done.status_code == 302 and done.headers["Location"].endswith("/exam/results")
    db.session.refresh(attempt)
    assert attempt.exam_score == 100
    again = client.post("/trainee/certification/core/exam", data=form)  # a double click: nothing marked twice
    assert again.status_code == 303 and again.headers["Location"].endswith("/exam/results")
    sid = attempt.details["drills"][0]
    started = client.post(f"/trainee/certification/core/drills/{sid}")
    assert started.status_code == 302 and re.search(r"/trainee/drills/\d+$", started.headers["Location"])
    for cid in attempt.details["cases"]:
        assert client.post(f"/trainee/certification/core/cases/{cid}", data={"answer": "先核实身份"}).status_code == 302
    assert db.session.query(CaseAnswer).filter_by(attempt_id=attempt.id).count() == 2
    assert client.post(f"/trainee/certification/core/cases/{cid}", data={"answer": "again"}).status_code == 303
    assert client.post("/trainee/certification/core/finish").status_code == 303  # incomplete: flashed
    assert client.get("/trainee/certification/nope").status_code == 404


def test_track_page_shows_past_attempts_with_missing_part_scores(client, login_as):
    """Hand-made (or half-migrated) data: attempts closed as "marked" or "submitted" whose
    part scores, total and grade are empty. The page once crashed formatting None as a number."""
    trainee = login_as("trainee")
    db.session.add_all([
        CertificationAttempt(user_id=trainee.id, track_id="core", status="marked", details={}),
        CertificationAttempt(user_id=trainee.id, track_id="core", status="submitted", details={},
                             exam_score=80.0),
    ])
    db.session.commit()
    page = client.get("/trainee/certification/core")
    assert page.status_code == 200
    assert page.text.count('class="card past-attempt"') == 2
    assert "None" not in page.text and "—" in page.text
    assert "80" in page.text  # the part that is there is still shown
    assert client.get("/trainee/certification/").status_code == 200
