"""BatchLab's Celery worker package: ``celery -A tasks worker``."""

from tasks.celery_app import app
from tasks.jobs import enqueue_job, enqueue_many, run_job

__all__ = ["app", "enqueue_job", "enqueue_many", "run_job"]
