"""Sending task messages from core (the window's refills, the batch tasks).

Messages are built by ``tasks.messages`` (Celery's envelope, JobId only for a job),
which imports the Celery app; core may not import ``tasks`` at import time (tasks
imports core), so it is imported on first use, as api/deps.py does.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any


@cache
def _tasks() -> Any:
    return importlib.import_module("tasks.batches")


def send_jobs(job_ids: list[str]) -> list[str]:
    """SendMessageBatch of JobId-only job messages; the ids SQS refused."""
    return _tasks().send_jobs(job_ids)


def send_task(name: str, *args: Any, delay_seconds: int = 0) -> None:
    """One batch task message (``batchlab.batch_*``), delayed with SQS DelaySeconds."""
    _tasks().send_task(name, *args, delay_seconds=delay_seconds)
