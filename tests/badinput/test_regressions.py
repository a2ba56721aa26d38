"""One test per bad-input defect found and fixed; each ran into a 500 before its fix.

Run on SQLite and on PostgreSQL: the same input overflowed differently on each.
"""
from __future__ import annotations

import pytest

HUGE = (2**31, 2**63, 10**30)


def test_ids_beyond_the_integer_columns_are_not_found(clients, people):
    # Was: PostgreSQL "integer out of range" (from 2**31) and SQLite OverflowError (from 2**63).
    for number in HUGE:
        for role, method, url in (("trainee", "get", f"/trainee/drills/{number}"),
                                  ("trainee", "get", f"/trainee/drills/{number}/report"),
                                  ("trainer", "get", f"/trainer/review/{number}"), ("hr", "get", f"/hr/people/{number}"),
                                  ("admin", "get", f"/admin/users/{number}"),
                                  ("trainer", "post", f"/trainer/marking/{number}")):
            response = clients[role].request(method, url)
            assert response.status_code == 404, (url, response.status_code)
    # The bound is the column's range, not lower: 2**31 - 1 is a possible id, answered by the view.
    response = clients["trainee"].get(f"/trainee/drills/{2**31 - 1}")
    assert response.status_code == 404 and "<h1>404</h1>" in response.get_data(as_text=True)
    # Other scripts' digits are not ids (werkzeug's \\d took /hr/people/٣ as user 3).
    assert clients["hr"].get(f"/hr/people/{chr(0x660 + people['users']['trainee'].id)}").status_code == 404


def test_huge_query_ids_and_pages(clients):
    # Was: ?answer= went to the database as is; ?page= became an OFFSET beyond bigint.
    content = lambda r: r.data.split(b"<main")[1]  # noqa: E731  (the page minus the URL echoed in the header)
    first = content(clients["hr"].get("/hr/"))
    for number in HUGE:
        assert clients["trainer"].get(f"/trainer/marking/?answer={number}").status_code == 200
        page = clients["hr"].get(f"/hr/?page={number}")
        # A page past the last shows the last (here the first and only one).
        assert page.status_code == 200 and content(page) == first


def test_a_huge_after_position_is_a_bad_request(clients, people):
    # Was: `after + 1` went into the turns query (integer out of range / OverflowError).
    for after in HUGE:
        for stream in (False, True):
            response = clients["trainee"].post(f"/trainee/drills/{people['drill_id']}/turns",
                                               json={"text": "您好", "after": after, "stream": stream})
            assert response.status_code == 400
            assert response.get_json()["code"] == "bad_request"


@pytest.mark.parametrize("web_app", ["sqlite"], indirect=True)  # parsing, not the database
def test_deeply_nested_json_is_a_bad_request(clients, people):
    # Was: RecursionError out of json.loads, which get_json(silent=True) does not catch.
    for body in ("[" * 100_000, '{"a":' * 100_000):
        response = clients["trainee"].post(f"/trainee/drills/{people['drill_id']}/turns", data=body,
                                           content_type="application/json")
        assert response.status_code == 400
        assert response.get_json()["code"] == "bad_request"


FORM_POSTS = (("anonymous", "/login"), ("trainee", "/logout"), ("trainee", "/language/en"),
              ("trainee", "/trainee/start/billing_complaint"), ("admin", "/admin/cohorts"),
              ("admin", "/admin/users/new"), ("trainer", "/trainer/assignments/new"), ("trainer", "/trainer/upload"))
JSON_BODIES = ("{bad", "[1, 2]", '[["username", "x"]]', '{"username": {"a": 1}, "password": [1]}',
               '{"username": 5, "password": null}', '"text"', "null")


@pytest.mark.parametrize("web_app", ["sqlite"], indirect=True)
def test_json_posted_to_form_routes_is_a_bad_form(clients):
    # Was: malformed JSON -> 400 raised again by the error page's logout form (500); a JSON
    # list or nested values crashed Flask-WTF's field processing.
    for role, url in FORM_POSTS:
        for body in JSON_BODIES:
            response = clients[role].post(url, data=body, content_type="application/json")
            assert 300 <= response.status_code < 500, (url, body, response.status_code)
            if url == "/login":  # a login form with nothing in it: shown again with the fault
                assert response.status_code == 400, (url, body)


@pytest.mark.parametrize("web_app", ["sqlite"], indirect=True)
def test_bodies_over_the_size_cap_get_a_clear_413(clients, people, web_app):
    # Was: the 413 page rendered the logout form, which read the body and raised 413 again.
    cap = web_app.config["MAX_CONTENT_LENGTH"]
    big = b"name=" + b"x" * cap  # pre-encoded: the test client would quote a str byte by byte
    page = clients["admin"].post("/admin/cohorts", data=big, content_type="application/x-www-form-urlencoded")
    # (The default interface language is Chinese: "what you sent is too large".)
    assert page.status_code == 413 and "提交的内容过大：每次最多 5 MB" in page.get_data(as_text=True)
    turn = clients["trainee"].post(f"/trainee/drills/{people['drill_id']}/turns", data=big,
                                   content_type="application/json", headers={"Accept": "application/json"})
    assert turn.status_code == 413 and turn.get_json()["error"].startswith("提交的内容过大")


@pytest.mark.parametrize("web_app", ["sqlite"], indirect=True)
def test_a_drill_start_that_names_no_persona_is_refused(clients):
    # Was: the page's preselected persona was also filled into posts without one, so an
    # empty (or JSON) post started a drill on the first persona.
    for body in ({}, {"customer": "scripted"}, {"persona": "", "customer": "scripted"}):
        response = clients["trainee"].post("/trainee/start/billing_complaint", data=body)
        assert response.status_code == 400 and 'class="error"' in response.get_data(as_text=True)
    assert 'checked' in clients["trainee"].get("/trainee/start/billing_complaint").get_data(as_text=True)


def test_nul_characters_in_fields_are_refused(clients):
    # Was: PostgreSQL refuses NUL in text, so these reached the database and failed (500).
    for role, method, url, kwargs in (
            ("anonymous", "post", "/login", {"data": {"username": "a\x00", "password": "password-123"}}),
            ("admin", "post", "/admin/cohorts", {"data": {"name": "c\x00"}}),
            ("hr", "get", "/hr/", {"query_string": {"cohort": "\x00"}}),
            ("hr", "get", "/hr/export/csv", {"query_string": {"track": "t\x00"}})):
        response = clients[role].request(method, url, **kwargs)
        assert response.status_code == 400, (url, response.status_code)
        assert "NUL" in response.get_data(as_text=True)


def test_lone_surrogates_in_a_turn_are_dropped(clients, people):
    # Was: a JSON "\ud800" reached the database driver, which cannot encode it (500).
    url = f"/trainee/drills/{people['drill_id']}/turns"
    only = clients["trainee"].post(url, data='{"text": "\\ud800\\ud800"}', content_type="application/json")
    assert only.status_code == 400 and only.get_json()["code"] == "empty"
    mixed = clients["trainee"].post(url, data='{"text": "您好\\ud800"}', content_type="application/json")
    assert mixed.status_code == 200 and mixed.get_json()["turns"][0]["text"] == "您好"


LAST_DAY = "9999-12-31"


def test_the_calendars_last_day_in_date_filters(clients, people, web_app):
    # Was: OverflowError on `day + timedelta(days=1)`, the exclusive end of a filter that
    # includes its last day. Up to 9999-12-31 now means no upper bound at all.
    from pathlib import Path

    from app.extensions import db
    from app.models import CertificationAttempt, CertificationResult
    from app.services import scoring

    trainee = people["users"]["trainee"]
    path = Path(__file__).resolve().parents[1] / "data" / "transcripts" / "billing_complaint.good.json"
    drill = scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)
    attempt = CertificationAttempt(user_id=trainee.id, track_id="core", status="marked", total=170.0,
                                   grade="excellent", details={})
    db.session.add(CertificationResult(user_id=trainee.id, attempt=attempt, track_id="core", grade="excellent",
                                       total=170.0))
    db.session.commit()

    def get(role, url):
        response = clients[role].get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    assert f"/trainer/review/{drill.id}" in get("trainer", f"/trainer/review?date_to={LAST_DAY}").text
    assert f"/trainer/review/{drill.id}" not in get("trainer", f"/trainer/review?date_from={LAST_DAY}").text
    analytics = clients["trainer"].get(f"/trainer/analytics?end={LAST_DAY}", headers={"Accept-Language": "en"})
    assert analytics.status_code == 200 and "latest score of 1 ended drills" in analytics.text
    assert "bad-trainee" in get("hr", f"/hr/?until={LAST_DAY}").text
    for fmt in ("csv", "xlsx"):
        assert get("hr", f"/hr/export/{fmt}?until={LAST_DAY}").headers["X-Row-Count"] == "1"
        assert get("hr", f"/hr/export/{fmt}?since={LAST_DAY}&until={LAST_DAY}").headers["X-Row-Count"] == "0"
    assert '"passed"' in get("hr", f"/hr/export/xapi?until={LAST_DAY}").text


def blind_once(monkeypatch, cert):
    """The next `case_answers` call finds no answer, as a request does that checked just
    before the other request of a double click committed."""
    real = cert.case_answers

    def blind(attempt):
        monkeypatch.setattr(cert, "case_answers", real)
        return {}

    monkeypatch.setattr(cert, "case_answers", blind)


def test_a_double_clicked_case_answer_is_stored_once(clients, people, monkeypatch):
    # Was: IntegrityError on the unique (attempt, case) answer when the second request of a
    # double click got past the "already answered" check before the first one committed.
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditEvent, CaseAnswer
    from app.services import certification as cert

    attempt = cert.start_attempt(people["users"]["trainee"], "core", seed=3)
    case_id = attempt.details["cases"][0]
    url, answer = f"/trainee/certification/core/cases/{case_id}", "先核实机主身份，再解释费用构成。"
    first = clients["trainee"].post(url, data={"answer": answer})
    assert first.status_code in (302, 303)
    # A second click that got past the check while the first request was committing.
    blind_once(monkeypatch, cert)
    again = clients["trainee"].post(url, data={"answer": answer})
    assert again.status_code == first.status_code and again.location == first.location
    assert clients["trainee"].post(url, data={"answer": answer}).status_code == first.status_code  # plain resend

    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    assert count(CaseAnswer, CaseAnswer.attempt_id == attempt.id) == 1
    assert count(AuditEvent, AuditEvent.action == "certification_case_submitted") == 1
    # A different answer to an answered case is still refused (409 from the service).
    blind_once(monkeypatch, cert)
    with pytest.raises(cert.CertificationError) as refused:
        cert.submit_case(cert.open_attempt(people["users"]["trainee"], "core"), case_id, "另一份答案")
    assert refused.value.status == 409
    assert db.session.scalar(select(CaseAnswer.answer).where(CaseAnswer.attempt_id == attempt.id)) == answer
