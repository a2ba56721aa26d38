"""The Celery worker's entry point: `celery -A make_celery worker` (README, "Background jobs").

The worker builds the same Flask app as the web server, from the same environment, so its
tasks use the same database, content and settings.
"""
import logging
import os

from celery.signals import worker_init

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]


@worker_init.connect
def warm_before_fork(**_kwargs) -> None:
    """Load the catalog, act models and jieba once in the worker's main process, before
    it forks its pool (as gunicorn.conf.py does): each pool process otherwise spends its
    first task on it (21 s measured on the 2-core machine). WORKER_WARM_UP=0 skips it."""
    if os.environ.get("WORKER_WARM_UP", "1").strip().lower() in {"0", "false", "no", "off"}:
        return
    from app.services.warmup import warm_up

    logging.getLogger(__name__).info("worker warm-up: %s", warm_up(flask_app))
