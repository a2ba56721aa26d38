"""The trainer's case-marking page: the queue, the mark, and the optional LLM suggestion."""
from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import AuditEvent, CaseAnswer, Cohort
from app.services import certification as cert
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def answer(make_user):
    trainer = make_user("trainer", username="marker")
    cohort = Cohort(name="c-mark", trainer_id=trainer.id)
    db.session.add(cohort)
    db.session.commit()
    candidate = make_user("trainee", username="cand", cohort=cohort, display_name="候选人甲")
    attempt = cert.start_attempt(candidate, "core", seed=6)
    return cert.submit_case(attempt, attempt.details["cases"][0], "先核实机主身份，再解释费用构成。")


def _key_points(answer):
    return cert.get_track("core").case(answer.case_id).key_points


def test_trainer_marks_a_case_from_the_queue(app, client, auth, answer):
    auth.login("marker")
    page = client.get("/trainer/marking/")
    assert "候选人甲" in page.text
    page = client.get(f"/trainer/marking/?answer={answer.id}")
    assert "先核实机主身份" in page.text
    assert "/suggest" not in page.text  # no LLM configured: no button
    marks = {f"kp-{k.id}": k.points for k in _key_points(answer)}
    r = client.post(f"/trainer/marking/{answer.id}", data={**marks, "feedback": "很好"}, follow_redirects=True)
    assert r.status_code == 200 and "20" in r.text
    assert db.session.get(CaseAnswer, answer.id).mark == 20


def test_suggestion_button_stores_an_advisory_mark(app, client, auth, answer):
    with FakeOpenAI() as fake:
        app.config.update(OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="k", OPENAI_MODEL="fake-model",
                          OPENAI_TIMEOUT=2)
        auth.login("marker")
        page = client.get(f"/trainer/marking/?answer={answer.id}")
        assert f"/trainer/marking/{answer.id}/suggest" in page.text
        half = {k.id: k.points / 2 for k in _key_points(answer)}
        fake.queue("normal", text=json.dumps({"marks": half, "rationale": "要点各答对一半"}))
        r = client.post(f"/trainer/marking/{answer.id}/suggest", follow_redirects=True)
        assert r.status_code == 200 and "要点各答对一半" in r.text
        stored = db.session.get(CaseAnswer, answer.id)
        assert stored.suggestion["total"] == 10 and stored.mark is None  # advisory: nothing marked
        assert db.session.query(AuditEvent).filter_by(action="case_mark_suggested").count() == 1

        fake.queue("http_500")
        stored.suggestion = None
        db.session.commit()
        r = client.post(f"/trainer/marking/{answer.id}/suggest", follow_redirects=True)
        assert r.status_code == 200 and db.session.get(CaseAnswer, answer.id).suggestion is None


def test_another_trainer_cannot_see_or_ask_for_a_suggestion(app, client, auth, answer, make_user):
    make_user("trainer", username="stranger")
    auth.login("stranger")
    assert "候选人甲" not in client.get("/trainer/marking/").text
    assert client.post(f"/trainer/marking/{answer.id}/suggest").status_code == 404
    assert client.post(f"/trainer/marking/{answer.id}", data={}).status_code == 404
