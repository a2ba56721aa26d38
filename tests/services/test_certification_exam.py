"""Certification as an exam: autosaved drafts, the clock, results with explanations, the
retake policy at start, certificate codes and validity (service level, both backends)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import certification_policy as policy
from app.extensions import db
from app.models import AuditEvent, CertificationAttempt, CertificationResult
from app.models.base import utcnow
from app.services import certification as cert
from tests.services.test_certification_service import mark_all, people, play_drill  # noqa: F401 (fixture)


def right(track, qid):
    return list(track.question(qid).answer)


def wrong(track, qid):
    q = track.question(qid)
    return [next(k for k in q.options if k not in q.answer)]


def opened(attempt, minutes_ago: float):
    """Pretend the exam was opened `minutes_ago` (the clock is the attempt's stored stamp)."""
    cert._set_details(attempt, exam_opened_at=(utcnow() - timedelta(minutes=minutes_ago)).isoformat())
    db.session.commit()


# ---------------------------------------------------------------- drafts and the clock

def test_draft_is_saved_merged_and_survives_a_new_session(people):
    attempt = cert.start_attempt(people[0], "core", seed=11)
    track = cert.get_track("core")
    qids = attempt.details["questions"]
    cert.open_exam(attempt)
    first_open = attempt.details["exam_opened_at"]
    cert.save_answers(attempt, {q: right(track, q) for q in qids[:10]})
    cert.save_answers(attempt, {qids[0]: [], qids[10]: wrong(track, qids[10])})  # clear one, answer another
    cert.open_exam(attempt)  # a reload does not restart the clock
    attempt_id = attempt.id
    db.session.remove()  # what a reload sees: a new session, the stored row
    attempt = db.session.get(CertificationAttempt, attempt_id)
    assert attempt.details["exam_opened_at"] == first_open
    saved = cert.draft(attempt)
    assert saved[qids[0]] == [] and saved[qids[1]] == right(track, qids[1]) and saved[qids[10]] == wrong(track, qids[10])
    assert attempt.exam_score is None
    # the last page's answers overlay the draft at submission
    result = cert.submit_exam(attempt, {q: right(track, q) for q in qids[50:]})
    assert result.total == pytest.approx(9 * 1.6 + 10 * 2.0)
    assert attempt.details["answers"][qids[1]] == right(track, qids[1])


def test_bad_draft_is_refused_and_loses_nothing(people):
    attempt = cert.start_attempt(people[0], "core", seed=12)
    track = cert.get_track("core")
    q = attempt.details["questions"][0]
    cert.save_answers(attempt, {q: right(track, q)})
    with pytest.raises(cert.CertificationError) as exc:
        cert.save_answers(attempt, {q: ["Z"]})
    assert exc.value.status == 400 and exc.value.code == "bad_answers"
    with pytest.raises(cert.CertificationError):
        cert.save_answers(attempt, {"not_drawn": ["A"]})
    db.session.refresh(attempt)
    assert cert.draft(attempt) == {q: right(track, q)}


def test_no_saving_after_submission(people):
    attempt = cert.start_attempt(people[0], "core", seed=13)
    cert.submit_exam(attempt, {})
    with pytest.raises(cert.CertificationError) as exc:
        cert.save_answers(attempt, {})
    assert (exc.value.status, exc.value.code) == (409, "exam_submitted")


def test_time_up_submits_what_was_saved_in_time(people):
    attempt = cert.start_attempt(people[0], "core", seed=14)
    track = cert.get_track("core")
    qids = attempt.details["questions"]
    cert.open_exam(attempt)
    cert.save_answers(attempt, {q: right(track, q) for q in qids[:5]})  # 5 × 1.6 = 8 points saved in time
    opened(attempt, track.exam.time_limit_minutes + 5)
    with pytest.raises(cert.CertificationError) as exc:
        cert.save_answers(attempt, {q: right(track, q) for q in qids[5:20]})  # too late: not counted
    assert (exc.value.status, exc.value.code) == (409, "time_up")
    db.session.refresh(attempt)
    assert attempt.exam_score == 8.0 and attempt.details["exam_timed_out"] is True
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certification_exam_submitted"))
    assert event is not None


def test_late_submission_marks_the_draft_not_the_late_answers(people):
    attempt = cert.start_attempt(people[0], "core", seed=15)
    track = cert.get_track("core")
    qids = attempt.details["questions"]
    cert.open_exam(attempt)
    cert.save_answers(attempt, {qids[0]: right(track, qids[0])})
    opened(attempt, track.exam.time_limit_minutes + 1)  # past the deadline and the grace
    assert cert.submit_exam(attempt, {q: right(track, q) for q in qids}).total == 1.6


def test_submission_within_the_grace_counts_the_posted_page(people):
    attempt = cert.start_attempt(people[0], "core", seed=17)
    track = cert.get_track("core")
    qids = attempt.details["questions"]
    cert.open_exam(attempt)
    opened(attempt, track.exam.time_limit_minutes + policy.GRACE_SECONDS / 120)  # 15 s past the deadline
    assert cert.submit_exam(attempt, {q: right(track, q) for q in qids}).total == 100


def test_settle_submits_an_abandoned_timed_exam_once(people):
    attempt = cert.start_attempt(people[0], "core", seed=18)
    assert not cert.settle_exam(attempt)  # not opened: no clock
    cert.open_exam(attempt)
    assert not cert.settle_exam(attempt)  # within the time
    opened(attempt, 120)
    assert cert.settle_exam(attempt) and attempt.exam_score == 0
    assert not cert.settle_exam(attempt)


# ---------------------------------------------------------------- results

def test_review_shows_given_and_right_answers_with_explanations(people):
    attempt = cert.start_attempt(people[0], "core", seed=19)
    track = cert.get_track("core")
    qids = attempt.details["questions"]
    assert cert.exam_review(attempt) is None  # nothing before submission
    cert.submit_exam(attempt, {qids[0]: right(track, qids[0]), qids[1]: wrong(track, qids[1])})
    review = cert.exam_review(attempt)
    assert [r["id"] for r in review] == qids
    first, second, third = review[:3]
    assert first["right"] and first["given"] == first["correct"] == right(track, qids[0])
    assert not second["right"] and second["given"] == wrong(track, qids[1])
    assert second["correct"] == sorted(track.question(qids[1]).answer)
    assert second["explanation"] == track.question(qids[1]).explanation
    assert third["given"] == [] and third["points"] == 0
    assert [k for k, _text, chosen, _c in second["options"] if chosen] == wrong(track, qids[1])


# ---------------------------------------------------------------- retakes

def closed(user, grade="retake", hours_ago=48.0, result_valid_until="none"):
    finished = utcnow() - timedelta(hours=hours_ago)
    attempt = CertificationAttempt(user_id=user.id, track_id="core", status="marked", grade=grade, total=100.0,
                                   details={}, started_at=finished - timedelta(hours=2), finished_at=finished)
    db.session.add(attempt)
    if grade != "retake":
        until = finished + timedelta(days=730) if result_valid_until == "none" else result_valid_until
        db.session.add(CertificationResult(user_id=user.id, attempt=attempt, track_id="core", grade=grade,
                                           total=150.0, awarded_at=finished, verification_code=policy.new_code(),
                                           valid_until=until))
    db.session.commit()
    return attempt


def refused(user):
    with pytest.raises(cert.CertificationError) as exc:
        cert.start_attempt(user, "core")
    assert exc.value.status == 409
    return exc.value


def test_wait_between_attempts_is_enforced(people):
    trainee = people[0]
    closed(trainee, hours_ago=2)
    err = refused(trainee)
    assert err.code == "wait" and err.params["until"] > utcnow()
    db.session.execute(CertificationAttempt.__table__.update().values(
        finished_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert cert.start_attempt(trainee, "core").status == "open"


def test_attempts_are_limited(people):
    trainee = people[0]
    for _ in range(3):
        closed(trainee)
    err = refused(trainee)
    assert (err.code, err.params["limit"]) == ("max_attempts", 3)


def test_no_retake_while_the_certificate_is_valid_renewal_after(people):
    trainee = people[0]
    closed(trainee, grade="excellent", hours_ago=100)
    err = refused(trainee)
    assert err.code == "passed" and err.params["until"] is not None
    db.session.execute(CertificationResult.__table__.update().values(valid_until=utcnow() - timedelta(days=1)))
    db.session.commit()
    assert cert.start_attempt(trainee, "core").status == "open"


# ---------------------------------------------------------------- certificates

def test_a_certified_attempt_gets_a_code_and_a_validity(people):
    trainee, trainer = people
    attempt = cert.start_attempt(trainee, "core", seed=7)
    track = cert.get_track("core")
    cert.submit_exam(attempt, {q: right(track, q) for q in attempt.details["questions"]})
    for sid in attempt.details["drills"]:
        play_drill(attempt, sid)
    mark_all(attempt, trainer)
    result = db.session.scalar(select(CertificationResult).where(CertificationResult.attempt_id == attempt.id))
    assert policy.normalise_code(result.verification_code) == result.verification_code
    assert result.valid_until == policy.add_months(result.awarded_at, 24)
    assert cert.verify(policy.show_code(result.verification_code).lower()).id == result.id
    assert cert.verify("0" * 20) is None and cert.verify("en") is None
    facts = cert.certificate_facts(result)
    assert facts["valid"] and facts["total"] == "184" and facts["track_total"] == "200"
    assert facts["holder"] == trainee.display_name and facts["organisation"]
    result.total = 183.55
    assert cert.certificate_facts(result)["total"] == "183.6"
    assert not cert.certificate_facts(result, now=result.valid_until + timedelta(seconds=1))["valid"]
