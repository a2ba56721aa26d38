"""Large certification exports as a background job: HR asks for an export of a filter,
a worker writes the file into EXPORT_DIR, the job's page shows how many rows are written
and offers the file when it is ready, to the person who asked for it and nobody else.

The job is an `export` row of the jobs table (migration 0011): `total` the rows counted
when it was asked for, `done` the rows written so far; params hold the format, the filter,
the language and the file's name. The task is idempotent: it writes to a temporary file
of its own and moves it into place in one rename, then marks the job done only if it is
not done yet; a re-run after a killed worker (late acknowledgement brings the task back)
writes the file again from the start, and a run that finds the job done does nothing.

Small exports (up to EXPORT_STREAM_MAX_ROWS rows) still stream in the request
(`exports.export`): they are done in about a second, a job would only add a page.
"""
from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from app.celery_app import enqueue, is_eager
from app.extensions import db
from app.models import Job, User
from app.models.base import utcnow
from app.services import audit, exports
from app.services.jobs import TRANSIENT, _error_text

log = logging.getLogger(__name__)

EXPORT = "export"


def streams(rows: int) -> bool:
    """Does an export of `rows` rows stream in the request (else it is prepared as a job)?"""
    return rows <= int(current_app.config.get("EXPORT_STREAM_MAX_ROWS", 2000))


def start_export(name: str, f: exports.ResultFilter, actor: User, language: str = "zh-CN") -> Job:
    """Queue an export of the results matching `f` in format `name` (LookupError for an
    unknown one); audited as `export_prepared`, committed before it is queued. Eager (no
    broker) the file is written before this returns. A broker that cannot be reached
    leaves the job failed, with its retry on the job's page."""
    w = exports.writer(name)
    rows = w.count(f)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    job = Job(kind=EXPORT, created_by_id=actor.id, total=rows, status="queued",
              params={"format": name, "filter": f.args(), "language": language,
                      "download_name": f"certifications-{stamp}.{w.extension}"})
    db.session.add(job)
    db.session.flush()
    job.params = {**job.params, "file": f"export-{job.id}.{w.extension}"}
    audit.record("export_prepared", actor, f"job:{job.id}", format=name, filter=f.args(), rows=rows)
    db.session.commit()
    _queue(job.id)
    purge_expired()
    return db.session.get(Job, job.id)


def retry_export(job: Job) -> bool:
    """Queue a failed export again (same job, same filter); False unless it had failed."""
    claimed = db.session.execute(update(Job).where(Job.id == job.id, Job.kind == EXPORT, Job.status == "failed")
                                 .values(status="queued", error=None, done=0, failed=0, finished_at=None)
                                 .execution_options(synchronize_session=False))
    db.session.commit()
    if claimed.rowcount != 1:
        return False
    _queue(job.id)
    return True


def _queue(job_id: int) -> None:
    try:
        enqueue("export_file", job_id)
    except Exception as exc:  # kombu raises its own OperationalError and socket errors
        if is_eager():
            raise
        log.exception("could not queue export job %s", job_id)
        fail_export(job_id, exc)


def run_export(job_id: int) -> None:
    """The `export_file` task's work: write the job's file and mark it done, counting the
    rows as they are written. TRANSIENT errors propagate for the task to retry; any other
    marks the job failed."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != EXPORT or job.status in ("done", "failed"):
        return
    params = dict(job.params)
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values(status="running", done=0, attempts=Job.attempts + 1)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for part in folder.glob(f".export-{job_id}-*.part"):  # left by a run killed mid-write
        _unlink(part)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".export-{job_id}-", suffix=".part")
    written = 0
    try:
        f = exports.ResultFilter.parse(params["filter"])
        w = exports.writer(params["format"])
        labels = exports.words(params.get("language", "zh-CN"))
        progress = _Progress(job_id)
        with os.fdopen(fd, "wb") as out:
            for chunk in w.write(f, labels, progress):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        written = progress.rows
        os.replace(tmp, folder / params["file"])
    except TRANSIENT:
        db.session.rollback()
        _unlink(tmp)
        raise
    except Exception as exc:
        db.session.rollback()
        _unlink(tmp)
        log.exception("export job %s failed", job_id)
        fail_export(job_id, exc)
        return
    db.session.rollback()  # end the export's read snapshot before writing
    db.session.execute(update(Job).where(Job.id == job_id, Job.status != "done")
                       .values(status="done", done=written, total=written, error=None, finished_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()


class _Progress:
    """Counts the rows written and stores the count on the job as it grows, on a
    connection of its own: the export's session holds its read (a server-side cursor on
    PostgreSQL) until the last row, and a commit there would end it."""

    def __init__(self, job_id: int):
        self.job_id, self.rows = job_id, 0

    def __call__(self, n: int) -> None:
        self.rows += n
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == self.job_id, Job.status == "running").values(done=self.rows))


def fail_export(job_id: int, exc: BaseException) -> None:
    """Mark an export failed (its task ran out of retries, or it could not be queued)."""
    db.session.rollback()
    db.session.execute(update(Job).where(Job.id == job_id, Job.status != "done")
                       .values(status="failed", error=_error_text(exc), finished_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()


def export_job(user: User, job_id: int) -> Job | None:
    """The export job if this user asked for it; None otherwise (views answer 404): an
    export is a copy of personal data made by one person, so only that person fetches it."""
    return db.session.scalar(select(Job).where(Job.id == job_id, Job.kind == EXPORT, Job.created_by_id == user.id))


def recent_exports(user: User, limit: int = 10) -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.kind == EXPORT, Job.created_by_id == user.id)
                                   .order_by(Job.id.desc()).limit(limit)))


def ready_file(job: Job) -> Path | None:
    """The finished export's file, or None (not ready, failed, or removed as expired)."""
    if job.status != "done":
        return None
    path = export_dir() / job.params["file"]
    return path if path.is_file() else None


def record_download(job: Job, actor: User) -> None:
    """Audit the download as an `export` (the data leaves here), with its job; commits."""
    audit.record("export", actor, "certifications", format=job.params["format"], filter=job.params["filter"],
                 rows=job.total, job=job.id)
    db.session.commit()


def mimetype(job: Job) -> str:
    return exports.writer(job.params["format"]).mimetype


def export_dir() -> Path:
    return Path(current_app.config["EXPORT_DIR"])


def purge_expired() -> int:
    """Remove the files of exports finished more than EXPORT_KEEP_HOURS ago (their page
    then says to prepare the export again); returns how many were removed."""
    keep = timedelta(hours=int(current_app.config.get("EXPORT_KEEP_HOURS", 24)))
    old = db.session.scalars(select(Job).where(Job.kind == EXPORT, Job.status == "done",
                                               Job.finished_at < utcnow() - keep))
    removed = 0
    for job in old:
        path = export_dir() / job.params["file"]
        if path.is_file():
            _unlink(path)
            removed += 1
    return removed


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
