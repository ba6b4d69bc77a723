"""BatchLab's Celery worker package: ``celery -A tasks worker``."""

from tasks import batches  # noqa: F401 - registers the batch tasks (issue 14)
from tasks.celery_app import app
from tasks.jobs import enqueue_job, enqueue_many, run_job

__all__ = ["app", "enqueue_job", "enqueue_many", "run_job"]
