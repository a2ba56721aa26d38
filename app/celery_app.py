"""The Celery app of a Flask app, after Flask's documented pattern ("Background Tasks
with Celery"): configured from the Flask config, each task run inside an app context.

Tasks are registered here, in one table (`TASKS`), on each Celery app made: views and
services start them with `enqueue(name, ...)`, never by importing a task object, so two
Flask apps in one process (tests) each run their tasks on their own config.
"""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask, current_app, has_app_context

from app import tasks

TASKS = {
    "score_drill": tasks.score_drill,
    "import_item": tasks.import_item,
    "rescore_item": tasks.rescore_item,
    "export_file": tasks.export_file,
}


def celery_config(config) -> dict:
    """Celery settings from the Flask config (README, "Background jobs")."""
    eager = bool(config.get("CELERY_ALWAYS_EAGER"))
    return {
        "broker_url": config.get("CELERY_BROKER_URL") or "memory://",
        "result_backend": config.get("CELERY_RESULT_BACKEND") or None,
        # Job state lives in the jobs table; a result backend is optional.
        "task_ignore_result": not config.get("CELERY_RESULT_BACKEND"),
        "task_always_eager": eager,
        # Acknowledge after the task, and put it back if its worker dies: a worker killed
        # mid-task loses nothing (the tasks are idempotent, so a re-run does not double-write).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One task at a time per worker process: a killed process holds back only its own.
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {"visibility_timeout": int(config.get("CELERY_VISIBILITY_TIMEOUT") or 3600)},
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_hijack_root_logger": False,
    }


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # Run eagerly inside a request of this app, a task shares its app context (and
            # database session) as the scoring in the request did before it was a task.
            if has_app_context() and current_app._get_current_object() is app:
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(app.config))
    max_retries = int(app.config.get("CELERY_MAX_RETRIES", 5))
    for name, fn in TASKS.items():
        celery_app.task(name=f"hotline.{name}", bind=True, max_retries=max_retries)(fn)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def enqueue(name: str, *args) -> None:
    """Start task `name` (a key of TASKS) of the current app with `args`: at once in the
    calling thread when eager, else on the broker for a worker."""
    celery_app: Celery = current_app.extensions["celery"]
    celery_app.tasks[f"hotline.{name}"].apply_async(args)


def is_eager() -> bool:
    return bool(current_app.config.get("CELERY_ALWAYS_EAGER"))
