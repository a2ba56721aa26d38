"""HR: results with filters, evidence, exports and certificates; read-only."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, CertificationAttempt, CertificationResult, Cohort


@pytest.fixture
def result(app, make_user):
    cohort = Cohort(name="c9")
    db.session.add(cohort)
    db.session.commit()
    trainee = make_user("trainee", username="wang", cohort=cohort, display_name="王五")
    attempt = CertificationAttempt(user_id=trainee.id, track_id="core", status="marked", exam_score=90.0,
                                   drill_score=50.0, case_score=30.0, total=170.0, grade="excellent",
                                   details={"exam_topics": {"red_lines": [8.0, 9.6]}})
    res = CertificationResult(user_id=trainee.id, attempt=attempt, track_id="core", grade="excellent", total=170.0)
    db.session.add(res)
    db.session.commit()
    return res


def test_results_filters_evidence_and_exports(client, login_as, result):
    login_as("hr")
    page = client.get("/hr/?cohort=c9&grade=excellent")
    assert page.status_code == 200 and "王五" in page.text and "/hr/export/csv?" in page.text
    assert "王五" not in client.get("/hr/?grade=pass").text
    assert client.get("/hr/?since=notadate").status_code == 400
    person = client.get(f"/hr/people/{result.user_id}")
    assert person.status_code == 200 and "服务红线" in person.text and "red_lines" not in person.text
    csv = client.get("/hr/export/csv?cohort=c9")
    assert csv.status_code == 200 and "王五" in csv.data.decode("utf-8-sig") and csv.headers["X-Row-Count"] == "1"
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once, not twice
    assert client.get("/hr/export/xlsx").data[:2] == b"PK"
    assert client.get("/hr/export/csv?cohort=nope").status_code == 400
    pdf = client.get(f"/hr/results/{result.id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    formats = [e.detail["format"] for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))]
    assert formats == ["csv", "xlsx", "pdf"]


# HR's only POSTs prepare a large export in the background, or retry one: they change no score.
HR_POSTS = {"hr.prepare_export", "hr.export_retry"}


def test_hr_cannot_post_anything(client, login_as, result, app):
    login_as("hr")
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("hr.") and rule.endpoint not in HR_POSTS:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    assert client.post(f"/hr/people/{result.user_id}").status_code == 405
    assert client.post("/trainer/marking/1", data={}).status_code == 403
    assert client.post("/trainee/certification/core/start").status_code == 403


def test_other_roles_cannot_export(client, login_as, result):
    login_as("trainer")
    assert client.get("/hr/export/csv").status_code == 403


def test_attempts_in_progress_say_what_is_left(client, login_as, make_user, result):
    from app.services.certification import start_attempt

    li = make_user("trainee", username="li", display_name="李雷")
    attempt = start_attempt(li, "core", seed=2)
    login_as("hr")
    home = client.get("/hr/").text
    assert "/hr/runs" in home  # one click from HR's home
    page = client.get("/hr/runs").text
    assert "李雷" in page and "王五" not in page  # the graded attempt is not in progress
    # What is left, by name: the exam, each drawn drill by scenario title, each case by title.
    assert "考试" in page
    from app.i18n import scenario_title
    for sid in attempt.details["drills"]:
        with client.application.test_request_context(headers={"Accept-Language": "zh"}):
            title = scenario_title(sid)
        assert title != sid and title in page and sid not in page
    assert "case:" not in page and "进行中" in page
