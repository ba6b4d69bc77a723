"""The Celery app. ``celery -A tasks worker`` finds it through tasks/__init__.py."""

from celery import Celery

app = Celery("tasks")
app.config_from_object("celeryconfig")
