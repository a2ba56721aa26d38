"""The Celery tasks, thin: each calls its service in app/services/jobs.py and retries,
with backoff, only what failed on something passing (TRANSIENT: the database was locked
or away). Registered on each Celery app by app/celery_app.py (TASKS)."""
from __future__ import annotations

from flask import current_app


def score_drill(self, job_id: int) -> None:
    from app.services import jobs

    try:
        jobs.run_score_drill(job_id)
    except jobs.TRANSIENT as exc:
        _retry_or(self, exc, lambda: jobs.fail_job(job_id, exc))


def import_item(self, item_id: int) -> None:
    from app.services import jobs

    try:
        jobs.run_import_item(item_id)
    except jobs.TRANSIENT as exc:
        _retry_or(self, exc, lambda: jobs.fail_item(item_id, exc))


def rescore_item(self, item_id: int) -> None:
    from app.services import jobs

    try:
        jobs.run_rescore_item(item_id)
    except jobs.TRANSIENT as exc:
        _retry_or(self, exc, lambda: jobs.fail_item(item_id, exc))


def export_file(self, job_id: int) -> None:
    from app.services import export_jobs

    try:
        export_jobs.run_export(job_id)
    except export_jobs.TRANSIENT as exc:
        _retry_or(self, exc, lambda: export_jobs.fail_export(job_id, exc))


def _retry_or(task, exc: BaseException, give_up) -> None:
    """Retry later (CELERY_RETRY_BACKOFF seconds, doubling each try) while tries are left
    and a worker runs the task; else `give_up` (records the failure for the page)."""
    if task.request.is_eager or task.request.retries >= task.max_retries:
        give_up()
        return
    base = float(current_app.config.get("CELERY_RETRY_BACKOFF", 2))
    raise task.retry(exc=exc, countdown=base * (2 ** task.request.retries))
