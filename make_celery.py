"""The Celery worker's entry point: `celery -A make_celery worker` (README, "Background jobs").

The worker builds the same Flask app as the web server, from the same environment, so its
tasks use the same database, content and settings.
"""
from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
