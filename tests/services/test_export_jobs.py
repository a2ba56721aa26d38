"""Large exports as a background job (app/services/export_jobs.py): the file written for
the filter, progress counted as rows are written, a re-run that writes nothing twice, a
failure recorded for its retry, the files of old exports removed."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, Job
from app.models.base import utcnow
from app.services import export_jobs, exports
from app.services.demo_certification import seed_demo_results
from tests.services.test_exports import results  # noqa: F401 - the fixture


@pytest.fixture
def hr(make_user):
    return make_user("hr", username="hr1")


def audit_actions() -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("export")]


def test_an_export_job_writes_the_filters_rows_to_a_file(results, hr, any_app):
    job = export_jobs.start_export("csv", exports.ResultFilter(cohort="b"), hr, "en")
    assert job.error is None
    assert (job.kind, job.status, job.total, job.done, job.created_by_id) == ("export", "done", 1, 1, hr.id)
    path = export_jobs.ready_file(job)
    assert path is not None and path.parent == Path(current_app.config["EXPORT_DIR"])
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(exports.HEADERS["en"]) and [r[1] for r in rows[1:]] == ["li"]
    assert job.params["download_name"].endswith(".csv") and job.params["filter"] == {"cohort": "b"}
    # asking is audited with its filter and row count; the download is audited when it happens
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export_prepared"))
    assert event.target == f"job:{job.id}" and event.detail == {"format": "csv", "filter": {"cohort": "b"}, "rows": 1}
    export_jobs.record_download(job, hr)
    assert audit_actions() == ["export_prepared", "export"]
    # no temporary file is left beside the export
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_xlsx_and_xapi_jobs_write_what_the_streamed_exports_send(results, hr, any_app):
    sheet = export_jobs.start_export("xlsx", exports.ResultFilter(), hr)
    book = load_workbook(export_jobs.ready_file(sheet))
    assert book.active.max_row == 3 and sheet.done == 2
    statements = export_jobs.start_export("xapi", exports.ResultFilter(), hr)
    data = json.loads(export_jobs.ready_file(statements).read_bytes())
    assert len(data) == statements.total == statements.done == 3  # three marked attempts, no drills


def test_progress_is_stored_while_the_rows_are_written(any_app, hr, monkeypatch):
    seed_demo_results(n_people=3, seed=1, results=3 * exports.CHUNK)  # some are retakes: no result
    seen = []
    real = export_jobs._Progress.__call__

    def spy(self, n):
        real(self, n)
        # read from another connection, as the job's page does while the worker writes
        with db.engine.connect() as conn:
            seen.append(conn.execute(select(Job.status, Job.done).where(Job.id == self.job_id)).one())

    monkeypatch.setattr(export_jobs._Progress, "__call__", spy)
    job = export_jobs.start_export("csv", exports.ResultFilter(), hr)
    total = job.total
    assert total > 2 * exports.CHUNK and job.done == total and job.status == "done"
    steps = [*range(exports.CHUNK, total, exports.CHUNK), total]
    assert seen == [("running", n) for n in steps]


def test_a_rerun_rewrites_nothing_and_a_killed_run_is_written_again(results, hr, any_app):
    job = export_jobs.start_export("csv", exports.ResultFilter(), hr)
    path = export_jobs.ready_file(job)
    before = path.stat().st_mtime_ns
    export_jobs.run_export(job.id)  # the task delivered twice
    assert path.stat().st_mtime_ns == before and db.session.get(Job, job.id).attempts == 1
    # a worker killed mid-write left the job running and a partial file: the task comes back
    db.session.execute(update(Job).where(Job.id == job.id).values(status="running", done=1))
    db.session.commit()
    (path.parent / f".export-{job.id}-dead.part").write_bytes(b"half")
    path.unlink()
    export_jobs.run_export(job.id)
    db.session.refresh(job)
    assert (job.status, job.done, job.attempts) == ("done", 2, 2)
    assert export_jobs.ready_file(job).read_bytes().count(b"\n") == 3


def test_a_failed_export_is_shown_and_retried(results, hr, any_app, monkeypatch):
    def broken(f, w, progress=None):
        yield b"half a file"
        raise RuntimeError("disk full")

    monkeypatch.setitem(exports._WRITERS, "csv", exports.Writer(
        "csv", "text/csv", "csv", broken, exports.count_results))
    job = export_jobs.start_export("csv", exports.ResultFilter(), hr)
    assert job.status == "failed" and "disk full" in job.error and export_jobs.ready_file(job) is None
    assert list(Path(current_app.config["EXPORT_DIR"]).iterdir()) == []  # the partial file is removed
    monkeypatch.undo()
    assert export_jobs.retry_export(job)
    db.session.refresh(job)
    assert job.status == "done" and job.error is None and export_jobs.ready_file(job) is not None
    assert not export_jobs.retry_export(job)  # only a failed export is retried


def test_only_the_person_who_asked_gets_the_job(results, hr, make_user, any_app):
    job = export_jobs.start_export("csv", exports.ResultFilter(), hr)
    other = make_user("hr", username="hr2")
    assert export_jobs.export_job(hr, job.id).id == job.id
    assert export_jobs.export_job(other, job.id) is None
    assert export_jobs.recent_exports(other) == [] and export_jobs.recent_exports(hr) == [job]


def test_files_of_old_exports_are_removed(results, hr, any_app):
    old = export_jobs.start_export("csv", exports.ResultFilter(), hr)
    db.session.execute(update(Job).where(Job.id == old.id).values(finished_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    new = export_jobs.start_export("csv", exports.ResultFilter(), hr)  # starting one purges the expired
    assert export_jobs.ready_file(old) is None and export_jobs.ready_file(new) is not None


def test_the_stream_threshold_follows_the_setting(app):
    app.config["EXPORT_STREAM_MAX_ROWS"] = 10
    assert export_jobs.streams(10) and not export_jobs.streams(11)
