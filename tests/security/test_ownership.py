"""Ownership by guessed ids: a trainee reaches only their own drills, a trainer only their
cohorts' drills, answers, trainees and analytics; HR and the administrator change no
score. Another owner's row answers exactly like a missing one (404, same body), and a
refused write leaves every table as it was.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Assignment, Drill
from tests.security.access import EXPECTED, HR_EXPORT_JOBS, OWNERSHIP, SCORE_CHANGING
from tests.security.support import TRANSCRIPTS, db_fingerprint, expand, login, url_for_rule

READS = ("GET",)
WRITES = ("POST",)


def _rules(app, role: str, kind: str):
    """(rule, method, row-id argument) for every rule `role` may use whose argument is `kind`."""
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if EXPECTED[(rule.endpoint, method)][role] != "ok":
                continue
            for arg in sorted(rule.arguments):
                if OWNERSHIP.get((rule.endpoint, arg)) == kind:
                    yield rule, method, arg


def _foreign_values(world, role: str) -> list[dict]:
    """Ids `role` (cohort A's user) must not reach: cohort B's rows, and for a trainee
    also the drill of a classmate in the same cohort."""
    out = [world.values(role, world.b)]
    if role == "trainee":
        out.append({"drill_id": world.a.peer_drill})
    return out


@pytest.mark.parametrize("role", ["trainee", "trainer", "hr"])
def test_scoped_routes_answer_foreign_ids_like_missing_ones(app, client, world, role):
    login(client, world.user_id(role))
    checked, wrong = 0, []
    for rule, method, arg in _rules(app, role, "scoped"):
        for foreign in (f for f in _foreign_values(world, role) if arg in f):
            for extra in expand(rule):
                values = {**world.values(role), **extra, arg: foreign[arg]}
                url = url_for_rule(app, rule, values)
                missing = url_for_rule(app, rule, {**values, arg: 999_999})
                before = db_fingerprint()
                response = client.open(url, method=method)
                # The page names its own URL (the language switch returns to it).
                body = response.get_data(as_text=True).replace(url, "URL")
                if response.status_code != 404:
                    wrong.append(f"{method} {url}: {response.status_code}")
                elif body != client.open(missing, method=method).get_data(as_text=True).replace(missing, "URL"):
                    wrong.append(f"{method} {url}: the 404 differs from a missing id's, telling the row exists")
                if db_fingerprint() != before:
                    wrong.append(f"{method} {url}: the database changed")
                checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked >= {"trainee": 9, "trainer": 10, "hr": 3}[role]


@pytest.mark.parametrize("role", ["hr", "admin"])
def test_global_routes_reach_every_cohort(app, client, world, role):
    """HR reads all evidence and the administrator manages all accounts, by design."""
    login(client, world.user_id(role))
    checked = 0
    for rule, method, arg in _rules(app, role, "global"):
        if method != "GET":
            continue
        for extra in expand(rule):
            url = url_for_rule(app, rule, {**world.values(role, world.b), **extra})
            assert client.get(url).status_code == 200, url
            checked += 1
    assert checked >= (6 if role == "hr" else 1)


def test_trainee_guessing_sequential_drill_ids_reaches_only_their_own(app, client, world):
    login(client, world.a.trainee)
    own = {world.a.live_drill, world.a.scored_drill}
    last = db.session.scalar(select(func.max(Drill.id)))
    guesses = range(1, last + 4)
    reads = ["/trainee/drills/{}/report", "/trainee/drills/{}/transcript.json",
             "/trainee/drills/{}/transcript.txt", "/trainee/drills/{}/transcript.pdf"]
    for drill_id in guesses:
        for pattern in reads:
            status = client.get(pattern.format(drill_id)).status_code
            assert status == (200 if drill_id in own else 404), (pattern.format(drill_id), status)
        page = client.get(f"/trainee/drills/{drill_id}")  # an uploaded call opens as its report
        assert page.status_code == ({world.a.live_drill: 200, world.a.scored_drill: 302}.get(drill_id, 404))
    before = db_fingerprint()
    for drill_id in (i for i in guesses if i not in own):
        assert client.post(f"/trainee/drills/{drill_id}/turns", json={"text": "您好，我是客服小李。"}).status_code == 404
        assert client.post(f"/trainee/drills/{drill_id}/hint").status_code == 404
        assert client.post(f"/trainee/drills/{drill_id}/end").status_code == 404
    assert db_fingerprint() == before


def test_trainee_cannot_start_another_cohorts_assignment(app, client, world):
    login(client, world.a.trainee)
    before = db_fingerprint()
    r = client.post(f"/trainee/assignments/{world.b.assignment}/start/billing_complaint")
    assert r.status_code == 404 and db_fingerprint() == before


def test_trainee_certification_routes_reach_only_their_own_attempt(app, client, world):
    """Attempts are found by track for the logged-in user: a classmate without an open
    attempt cannot answer, finish or start drills in the trainee's one."""
    login(client, world.a.peer)
    before = db_fingerprint()
    for path in (f"cases/{world.a.case_id}", "finish", "drills/billing_complaint"):
        assert client.post(f"/trainee/certification/core/{path}", data={"answer": "x"}).status_code == 409
    assert client.post("/trainee/certification/core/exam", data={}).status_code == 409
    assert db_fingerprint() == before
    page = client.get("/trainee/certification/core").get_data(as_text=True)
    assert "a 组的答卷" not in page


def test_trainer_pages_show_only_their_cohorts(app, client, world):
    login(client, world.a.trainer)
    pages = ["/trainer/", "/trainer/review", "/trainer/marking/", "/trainer/analytics", "/trainer/assignments",
             "/trainer/upload", "/trainer/assignments/new"]
    seen_own = set()
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        for name in ("trainee-b", "peer-b", "cohort-b", "assignment b", "b 组的答卷"):
            assert name not in html, (url, name)
        seen_own |= {n for n in ("trainee-a", "peer-a", "cohort-a") if n in html}
    assert seen_own == {"trainee-a", "peer-a", "cohort-a"}  # the pages do list the trainer's own


def test_trainer_filters_and_forms_refuse_other_cohorts(app, client, world):
    login(client, world.a.trainer)
    html = client.get(f"/trainer/marking/?answer={world.b.answer}").get_data(as_text=True)
    assert "b 组的答卷" not in html
    assert client.get(f"/trainer/analytics?cohort={world.b.cohort}").status_code == 400
    assert client.get(f"/trainer/review?trainee={world.b.trainee}").status_code == 400
    before = db_fingerprint()
    upload = (TRANSCRIPTS / "billing_complaint.good.json").read_bytes()
    for url in ("/trainer/upload", "/trainer/upload/file"):
        r = client.post(url, data={"trainee_id": str(world.b.trainee),
                                   "files": (io.BytesIO(upload), "call.json")}, content_type="multipart/form-data")
        assert r.status_code == 400, url
    r = client.post("/trainer/assignments/new", data={
        "title": "x", "language": "zh-CN", "scenario_ids": ["billing_complaint"], "mode": "practice",
        "min_attempts": "1", "pass_mark": "80", "hint_penalty": "2", "report_release": "immediate",
        "cohort_ids": [str(world.b.cohort)], "user_ids": [str(world.b.trainee)]})
    assert r.status_code == 400
    assert db_fingerprint() == before
    assert db.session.scalar(select(func.count(Assignment.id))) == 2


@pytest.mark.parametrize("role", ["hr", "admin", "trainee"])
def test_only_trainers_reach_score_changing_routes(app, client, world, role):
    """Every route that changes a score, a mark or a released report refuses HR and the
    administrator (403) and changes nothing; a trainee reaches only the drill-side
    ones (ending and hints on their own drills, their own certification)."""
    login(client, world.user_id(role))
    before, refused = db_fingerprint(), 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in SCORE_CHANGING or "POST" not in rule.methods:
            continue
        if EXPECTED[(rule.endpoint, "POST")][role] == "ok":
            assert role == "trainee" and rule.endpoint.startswith("trainee."), rule.endpoint
            continue
        url = url_for_rule(app, rule, world.values("trainer"))
        response = client.post(url, data={"reason": "x", "revision": "1", "score_id": "1"})
        assert response.status_code == 403, (url, response.status_code)
        refused += 1
    assert db_fingerprint() == before
    assert refused >= 7


def test_hr_blueprint_has_no_state_changing_route_but_its_exports(app):
    hr = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("hr.") and r.endpoint not in HR_EXPORT_JOBS]
    assert hr and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in hr)
