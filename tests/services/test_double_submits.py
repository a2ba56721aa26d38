"""Double submits of the trainer's forms (issue 16, finding 5): the same post twice, one
after the other and at once in threads (SQLite file and PostgreSQL), is idempotent or a
clear 409, never two rows and never a 500."""
from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Assignment, AuditEvent, CaseAnswer, CertificationAttempt, CertificationResult, User
from app.services import assignments as service
from app.services import certification as cert
from tests.services.test_certification_service import answer_exam, mark_all, people, play_drill, r2  # noqa: F401


def _at_once(*calls) -> list:
    app = current_app._get_current_object()
    barrier, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i):
        with app.app_context():
            try:
                args = calls[i][0]()
                barrier.wait()
                out[i] = calls[i][1](*args)
            except Exception as exc:  # noqa: BLE001 - inspected below
                out[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_last_case_mark_sent_twice_at_once_grades_the_attempt_once(people, any_app):
    trainee, trainer = people
    attempt = cert.start_attempt(trainee, "core", seed=7)
    answer_exam(attempt)
    for sid in attempt.details["drills"]:
        play_drill(attempt, sid)
    track = cert.get_track("core")
    *first, last = attempt.details["cases"]
    for cid in first:
        answer = cert.submit_case(attempt, cid, "先核实身份，再解释原因，最后给出方案。")
        cert.mark_case(answer, trainer, {k.id: r2(k.points * 0.75) for k in track.case(cid).key_points}, "ok")
    answer_id = cert.submit_case(attempt, last, "先核实身份，再解释原因，最后给出方案。").id
    marks = {k.id: r2(k.points * 0.75) for k in track.case(last).key_points}
    trainer_id, attempt_id = trainer.id, attempt.id

    def load():
        return db.session.get(CaseAnswer, answer_id), db.session.get(User, trainer_id)

    out = _at_once(*[(load, lambda a, t: cert.mark_case(a, t, marks, "ok")) for _ in range(4)])
    for o in out:  # saved (and graded here or by the other), or 409: the attempt was marked first
        assert isinstance(o, CaseAnswer) or (isinstance(o, cert.CertificationError) and o.status == 409), out
    assert _count(CertificationResult, CertificationResult.attempt_id == attempt_id) == 1
    assert _count(AuditEvent, AuditEvent.action == "certification_finalised") == 1
    assert db.session.get(CertificationAttempt, attempt_id).status == "marked"


def _spec(cohort_ids):
    return service.AssignmentSpec(title="账单投诉练习", scenario_ids=["billing_complaint"], min_attempts=2,
                                  pass_mark=60, cohort_ids=cohort_ids)


def test_an_assignment_posted_twice_is_created_once(people, any_app):
    trainee, trainer = people
    cohort_ids = [c.id for c in trainee.cohorts]
    first = service.create_assignment(trainer, _spec(cohort_ids))
    again = service.create_assignment(trainer, _spec(cohort_ids))
    assert again.id == first.id
    trainer_id = trainer.id
    out = _at_once(*[(lambda: (db.session.get(User, trainer_id),),
                      lambda t, n=n: service.create_assignment(t, _spec(cohort_ids)).id) for n in range(4)])
    assert out == [first.id] * 4, out
    # Another title (or other settings) is another assignment.
    other = service.create_assignment(db.session.get(User, trainer_id),
                                      service.AssignmentSpec(title="第二轮", scenario_ids=["billing_complaint"],
                                                             cohort_ids=cohort_ids))
    assert other.id != first.id
    assert _count(Assignment) == 2
    assert _count(AuditEvent, AuditEvent.action == "assignment_created") == 2
