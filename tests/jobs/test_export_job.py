"""A large export on a real Celery worker and Redis: the request only queues it, the
worker writes the file into the shared EXPORT_DIR and counts its rows; a worker killed
in the middle of writing loses nothing (late acknowledgement brings the task back to a
new worker, which writes the whole file again)."""
from __future__ import annotations

import csv
import io
import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import CertificationResult, Job
from app.services import export_jobs, exports
from app.services.demo_certification import seed_demo_results
from tests.jobs.conftest import kill9
from tests.jobs.test_worker_kill import progress, queued_app  # noqa: F401 - the fixture

ROWS = 60_000  # enough that the kill lands mid-file on a loaded machine (about 4 s of CSV)


def wait_until(job_id: int, seconds: float, worker, done) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        job = progress(job_id)
        if done(job):
            return job
        assert worker.poll() is None, "the worker exited (see its log in the test's tmp folder)"
        assert time.monotonic() < deadline, f"export job stuck at {job.status} {job.done}/{job.total}"
        time.sleep(0.05)


def test_a_worker_killed_mid_export_loses_nothing(queued_app, start_worker, tmp_path):
    from app.services.accounts import create_user

    # the worker's instance folder (tests/jobs/conftest.py), where it writes prepared exports
    queued_app.config["EXPORT_DIR"] = str(tmp_path / "instance" / "exports")
    hr = create_user("hr-jobs", "password-123", "hr")
    seed_demo_results(n_people=3, seed=1, results=ROWS)
    db.session.commit()
    certified = db.session.scalar(select(func.count(CertificationResult.id)))
    job_id = export_jobs.start_export("csv", exports.ResultFilter(), hr).id
    assert progress(job_id).status == "queued"  # on Redis, not written in this process

    database, broker = queued_app.config["SQLALCHEMY_DATABASE_URI"], queued_app.config["CELERY_BROKER_URL"]
    first = start_worker(database, broker, concurrency=1, name="first")
    at_kill = wait_until(job_id, 120, first, lambda j: j.status == "running" and j.done >= exports.CHUNK)
    kill9(first)
    assert at_kill.done < certified, "the export finished before the kill: make it larger"

    second = start_worker(database, broker, concurrency=1, name="second")
    job = wait_until(job_id, 300, second, lambda j: j.finished)
    assert (job.status, job.total, job.done, job.attempts) == ("done", certified, certified, 2)
    path = export_jobs.ready_file(job)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    ids = [int(r[0]) for r in rows[1:]]
    assert len(ids) == len(set(ids)) == certified  # every row once, none from the killed run's half
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # the killed run's part file is gone
