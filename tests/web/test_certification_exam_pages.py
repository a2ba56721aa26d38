"""The exam in the browser's terms: pages, autosave, the clock, results; retake refusals
in the user's language; the public certificate check and the certificate PDF."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.core import certification_policy as policy
from app.extensions import db
from app.models import CertificationAttempt, CertificationResult
from app.models.base import utcnow
from app.services import certification as cert

EXAM = "/trainee/certification/core/exam"


def start(client, user, begin=True):
    assert client.post("/trainee/certification/core/start").status_code == 302
    if begin:
        assert client.post(EXAM + "/begin").status_code == 302
    return db.session.scalar(select(CertificationAttempt).where(CertificationAttempt.user_id == user.id))


def test_the_clock_starts_on_begin_not_on_looking(client, login_as):
    attempt = start(client, login_as("trainee"), begin=False)
    intro = client.get(EXAM)
    assert "开始答题" in intro.text and "限时 60 分钟" in intro.text and 'name="shown"' not in intro.text
    db.session.refresh(attempt)
    assert cert.exam_opened_at(attempt) is None
    client.post(EXAM + "/begin")
    db.session.refresh(attempt)
    began = cert.exam_opened_at(attempt)
    assert began is not None
    client.post(EXAM + "/begin")  # a second press (or a back button) does not restart it
    db.session.refresh(attempt)
    assert cert.exam_opened_at(attempt) == began
    assert client.get(EXAM).text.count('name="shown"') == 10


def page_form(attempt, page, answers, go):
    qids = attempt.details["questions"][(page - 1) * 10: page * 10]
    form = {"shown": qids, "go": go}
    for qid in qids:
        if qid in answers:
            form[qid] = answers[qid]
    return form


def test_pages_keep_answers_across_moves_and_reloads(client, login_as):
    attempt = start(client, login_as("trainee"))
    track = cert.get_track("core")
    qids = attempt.details["questions"]
    right = {q: list(track.question(q).answer) for q in qids}
    first = client.get(EXAM)
    assert "第 1 / 6 页" in first.text and first.text.count('name="shown"') == 10
    moved = client.post(EXAM, data=page_form(attempt, 1, right, "2"))
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/exam?page=2")
    # back on page 1 (a reload, or the "previous" button) the answers are checked
    again = client.get(EXAM + "?page=1").text
    q0 = qids[0]
    assert re.search(rf'name="{q0}" value="{right[q0][0]}" checked', again)
    assert "已答 10 / 60 题" in again
    # the script's autosave: page 2, answered through the JSON endpoint
    saved = client.post(EXAM + "/save", data=page_form(attempt, 2, right, ""), headers={"Accept": "application/json"})
    assert saved.status_code == 200 and saved.json["answered"] == 20 and saved.json["seconds_left"] > 0
    bad = client.post(EXAM + "/save", data={"shown": [q0], q0: ["Z"]})
    assert bad.status_code == 400 and "error" in bad.json
    # submitting from the last page marks pages 1-2 from the draft and page 6 from the form
    done = client.post(EXAM, data=page_form(attempt, 6, right, "submit"))
    assert done.status_code == 302
    db.session.refresh(attempt)
    assert attempt.exam_score == 20 * 1.6 + 10 * 2.0
    assert client.post(EXAM + "/save", data={}).status_code == 409


def test_clock_is_shown_and_time_up_submits_the_saved_answers(client, login_as):
    attempt = start(client, login_as("trainee"))
    track = cert.get_track("core")
    page = client.get(EXAM).text
    left = int(re.search(r'data-seconds-left="(\d+)"', page).group(1))
    assert 0 < left <= 60 * 60 and "cert_exam.js" in page and "剩余时间" in page
    q0 = attempt.details["questions"][0]
    client.post(EXAM, data={"shown": [q0], q0: track.question(q0).answer, "go": "1"})
    db.session.refresh(attempt)
    cert._set_details(attempt, exam_opened_at=(utcnow() - timedelta(minutes=61)).isoformat())
    db.session.commit()
    late = client.get(EXAM)
    assert late.status_code == 303 and late.headers["Location"].endswith("/exam/results")
    db.session.refresh(attempt)
    assert attempt.exam_score == 1.6
    results = client.get("/trainee/certification/core/exam/results").text
    assert "考试时间已到" in results


def test_results_show_right_answers_and_explanations(client, login_as, make_user):
    attempt = start(client, login_as("trainee"))
    track = cert.get_track("core")
    qids = attempt.details["questions"]
    q0, q1 = track.question(qids[0]), track.question(qids[1])
    wrong = next(k for k in q1.options if k not in q1.answer)
    client.post(EXAM, data={"shown": qids[:2], q0.id: q0.answer, q1.id: [wrong], "go": "submit"})
    page = client.get("/trainee/certification/core/exam/results")
    assert page.status_code == 200
    assert q0.explanation in page.text and q1.explanation in page.text
    assert "正确答案" in page.text and "解析" in page.text and "共 60 题，答对 1 题" in page.text
    assert page.text.count('class="card q-wrong"') == 59
    track_page = client.get("/trainee/certification/core").text
    assert "查看考试结果和正确答案" in track_page
    # another trainee's attempt is not reachable by its id
    other = make_user("trainee", username="other")
    foreign = CertificationAttempt(user_id=other.id, track_id="core", status="open", details={"exam": {"questions": []}})
    db.session.add(foreign)
    db.session.commit()
    assert client.get(f"/trainee/certification/core/exam/results?attempt={foreign.id}").status_code == 404
    assert client.get(f"/trainee/certification/core/exam/results?attempt={attempt.id}").status_code == 200


def test_retake_refusal_is_shown_in_the_users_language(client, login_as):
    trainee = login_as("trainee")
    finished = utcnow() - timedelta(hours=1)
    db.session.add(CertificationAttempt(user_id=trainee.id, track_id="core", status="marked", grade="retake",
                                        total=90.0, details={}, started_at=finished - timedelta(hours=1),
                                        finished_at=finished))
    db.session.commit()
    page = client.get("/trainee/certification/core").text
    assert "本认证两次参加之间需间隔一段时间" in page and "开始考核" not in page
    refused = client.post("/trainee/certification/core/start", follow_redirects=True)
    assert "下次最早可于" in refused.text
    client.post("/language/en")
    english = client.post("/trainee/certification/core/start", follow_redirects=True)
    assert "the next attempt may start at" in english.text and "下次最早可于" not in english.text
    assert db.session.query(CertificationAttempt).filter_by(user_id=trainee.id).count() == 1


def held_certificate(make_user, total=183.55):
    holder = make_user("trainee", display_name="李四")
    attempt = CertificationAttempt(user_id=holder.id, track_id="core", status="marked", grade="good", total=total,
                                   details={})
    awarded = utcnow() - timedelta(days=30)
    result = CertificationResult(user_id=holder.id, attempt=attempt, track_id="core", grade="good", total=total,
                                 awarded_at=awarded, verification_code=policy.new_code(),
                                 valid_until=policy.add_months(awarded, 24))
    db.session.add(result)
    db.session.commit()
    return result


def test_public_verification_page(client, make_user):
    result = held_certificate(make_user)
    page = client.get(f"/verify/{policy.show_code(result.verification_code)}")  # no login
    assert page.status_code == 200
    for text in ("李四", "热线客服岗位技能认证", "良好", "183.6 / 200", f"{result.awarded_at:%Y-%m-%d}",
                 f"{result.valid_until:%Y-%m-%d}", "证书在有效期内"):
        assert text in page.text, text
    assert "183.55" not in page.text
    lower = client.get(f"/verify/{result.verification_code.lower()}")
    assert lower.status_code == 200
    for miss in ("0" * 20, "abc", str(result.id)):
        gone = client.get(f"/verify/{miss}")
        assert gone.status_code == 404 and "没有与此验证码对应的证书" in gone.text and "李四" not in gone.text
    typed = client.get("/verify/?code=" + result.verification_code)
    assert typed.status_code == 302 and typed.headers["Location"].endswith(f"/verify/{result.verification_code}")
    assert client.get("/verify/").status_code == 200
    result.valid_until = utcnow() - timedelta(days=1)
    db.session.commit()
    assert "证书已过期" in client.get(f"/verify/{result.verification_code}").text


def test_certificate_pdf_names_the_issuer_and_the_code(app, client, login_as, make_user):
    app.config.update(CERT_ORGANISATION="某某通信客服中心", CERT_SIGNATORY="张三")
    result = held_certificate(make_user)
    login_as("hr")
    pdf = client.get(f"/hr/results/{result.id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    facts = cert.certificate_facts(result)
    assert facts["organisation"] == "某某通信客服中心" and facts["signatory"] == "张三"
    assert facts["seal_text"] == "某某通信客服中心" and facts["total"] == "183.6"


def test_a_save_naming_no_question_clears_nothing(client, login_as):
    attempt = start(client, login_as("trainee"))
    track = cert.get_track("core")
    q0 = attempt.details["questions"][0]
    client.post(EXAM, data={"shown": [q0], q0: track.question(q0).answer, "go": "1"})
    assert client.post(EXAM + "/save", data={}).status_code == 200
    client.post(EXAM, data={"go": "2"})
    db.session.refresh(attempt)
    assert cert.draft(attempt) == {q0: list(track.question(q0).answer)}


def test_track_page_says_continue_once_the_exam_has_begun(client, login_as):
    start(client, login_as("trainee"), begin=False)
    before = client.get("/trainee/certification/core").text
    assert "参加理论考试" in before and "继续答题" not in before
    client.post(EXAM + "/begin")
    assert "继续答题" in client.get("/trainee/certification/core").text
