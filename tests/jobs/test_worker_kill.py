"""A real Celery worker on a real Redis: a batch of transcripts, the worker killed with
SIGKILL in the middle of it, a new worker started: every transcript is scored exactly
once (late acknowledgement brings the killed worker's task back; the item's conditional
finish keeps a re-run from storing a second drill)."""
from __future__ import annotations

import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent, Drill, Job, JobItem, Score
from app.services import jobs
from tests.conftest import make_config
from tests.jobs.conftest import kill9
from tests.web.test_upload import GOOD, ROBOT

GOOD_FILES = 24


@pytest.fixture(params=["sqlite", "postgres"])
def queued_app(request, app_factory, redis_url, cache_dir):
    overrides = {"CELERY_ALWAYS_EAGER": False, "CELERY_BROKER_URL": redis_url}
    if request.param == "sqlite":
        app = app_factory(**overrides)
        with app.app_context():
            yield app
        return
    url = request.getfixturevalue("pg_database")
    app = create_app(make_config(url, CACHE_DIR=str(cache_dir), **overrides))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def progress(job_id: int) -> Job:
    db.session.rollback()  # a fresh snapshot: the worker writes from another process
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    return job


def wait_for(job_id: int, finished: int, seconds: float, worker) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        job = progress(job_id)
        if job.done + job.failed >= finished:
            return job
        assert worker.poll() is None, "the worker exited (see its log in the test's tmp folder)"
        assert time.monotonic() < deadline, f"only {job.done + job.failed} of {finished} items in {seconds} s"
        time.sleep(0.1)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_worker_killed_mid_batch_loses_nothing_and_scores_nothing_twice(queued_app, start_worker):
    from app.services.accounts import create_user

    trainer = create_user("coach", "password-123", "trainer")  # not make_user: it brings its own app
    db.session.commit()
    files = [(f"call-{i:02d}.json", GOOD.read_bytes()) for i in range(GOOD_FILES)] + [("robot.json", ROBOT)]
    job_id = jobs.start_import_batch(files, trainer, external_agent="外包 07").id
    total = len(files)
    assert progress(job_id).done == 0  # queued on Redis, not run in this process

    database = queued_app.config["SQLALCHEMY_DATABASE_URI"]
    broker = queued_app.config["CELERY_BROKER_URL"]
    first = start_worker(database, broker, concurrency=1, name="first")
    at_kill = wait_for(job_id, 3, 180, first)
    kill9(first)
    killed_at = at_kill.done + at_kill.failed
    assert killed_at < total, "the batch finished before the kill: make it larger"

    second = start_worker(database, broker, concurrency=2, name="second")
    job = wait_for(job_id, total, 240, second)

    assert (job.status, job.done, job.failed) == ("done", GOOD_FILES, 1)
    items = db.session.scalars(select(JobItem).where(JobItem.job_id == job_id)).all()
    assert all(i.status in ("done", "failed") for i in items)
    drill_ids = [i.drill_id for i in items if i.status == "done"]
    assert len(drill_ids) == GOOD_FILES == len(set(drill_ids))
    # exactly once: one drill, one score and one import record per good file, nothing more
    assert count(Drill) == GOOD_FILES
    assert count(Score) == GOOD_FILES
    assert count(AuditEvent, AuditEvent.action == "transcript_imported") == GOOD_FILES
    assert {d.external_agent for d in db.session.scalars(select(Drill))} == {"外包 07"}
