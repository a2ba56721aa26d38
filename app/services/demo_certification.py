"""Plausible certification attempts and results for the demo cohort and for benchmarks.

Rows are written with bulk inserts (`insert().values([...])` per chunk), not ORM
objects, so 100,000 results take seconds. The attempts hold section points that add up
to their total and grades that follow the core track's bands; they carry no drills or
case answers (the evidence pages show "no drills" for them).
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from app.core import certification_marking as marking
from app.core import certification_policy as policy
from app.extensions import db
from app.models import CertificationAttempt, CertificationResult, Cohort, User
from app.models.base import utcnow
from app.services.accounts import create_user

DEMO_COHORT = "demo-cohort"


def _people(n: int, cohort_name: str) -> list[int]:
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == cohort_name))
    if cohort is None:
        cohort = Cohort(name=cohort_name)
        db.session.add(cohort)
        db.session.flush()
    ids = list(db.session.scalars(select(User.id).where(User.cohorts.any(Cohort.id == cohort.id), User.role == "trainee")
                                  .order_by(User.id).limit(n)))
    start = db.session.scalar(select(func.count(User.id))) or 0
    for i in range(len(ids), n):
        user = create_user(f"demo{start + i:06d}", "demo-password", "trainee", f"学员{start + i:04d}", cohort)
        db.session.flush()
        ids.append(user.id)
    return ids


def seed_demo_results(n_people: int = 20, seed: int = 0, results: int | None = None, track=None,
                      cohort_name: str = DEMO_COHORT, chunk: int = 5000) -> int:
    """Create `results` marked attempts (default one per person) spread over the people
    of `cohort_name` (created with their trainees when missing) and the last year, with
    a CertificationResult for each certified one. Commits; returns the attempts made."""
    from app.services.certification import get_track

    track = track or get_track("core")
    rng = random.Random(seed)
    people = _people(n_people, cohort_name)
    total_rows = results if results is not None else n_people
    now = utcnow()
    made = 0
    while made < total_rows:
        size = min(chunk, total_rows - made)
        attempts = []
        for _ in range(size):
            exam = marking.r2(min(track.exam.points, max(0.0, rng.gauss(84, 9))))
            drills = marking.r2(min(track.drills.points, max(0.0, rng.gauss(44, 8))))
            cases = marking.r2(min(track.cases.points, max(0.0, rng.gauss(29, 5))))
            total = marking.r2(exam + drills + cases)
            grade = marking.band_for(track, total).grade
            if exam < track.exam.pass_mark and track.exam.gate_grade:
                grade = track.exam.gate_grade
            finished = now - timedelta(days=rng.uniform(0, 365))
            attempts.append({"user_id": rng.choice(people), "track_id": track.id, "status": "marked",
                             "exam_score": exam, "drill_score": drills, "case_score": cases, "total": total,
                             "grade": grade, "details": {"demo": True, "track_version": track.version},
                             "started_at": finished - timedelta(hours=2), "finished_at": finished})
        first = (db.session.scalar(select(func.max(CertificationAttempt.id))) or 0) + 1
        db.session.execute(insert(CertificationAttempt), attempts)
        # Ids were assigned in insert order after `first` (one writer: the seeding command).
        ids = list(db.session.scalars(select(CertificationAttempt.id).where(CertificationAttempt.id >= first)
                                      .order_by(CertificationAttempt.id)))
        rows = [{"user_id": a["user_id"], "attempt_id": aid, "track_id": a["track_id"], "grade": a["grade"],
                 "total": a["total"], "awarded_at": a["finished_at"],
                 "verification_code": policy.new_code(), "valid_until": policy.valid_until(track, a["finished_at"])}
                for aid, a in zip(ids, attempts) if a["grade"] != "retake"]
        if rows:
            db.session.execute(insert(CertificationResult), rows)
        made += size
    db.session.commit()
    return made
