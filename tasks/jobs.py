"""The one task, and how to send it. Messages carry the JobId and nothing else."""

from __future__ import annotations

from tasks.celery_app import app
from tasks.execution import handle_delivery

RUN_JOB = "batchlab.run_job"


def enqueue_job(job_id: str, *, delay_seconds: int | None = None) -> None:
    """Send the JobId-only message. A delay uses SQS DelaySeconds (≤ 900 s), never
    a Celery ETA: an ETA longer than the visibility timeout runs the task twice."""
    options = {} if not delay_seconds else {"DelaySeconds": min(int(delay_seconds), 900)}
    app.send_task(RUN_JOB, args=[job_id], **options)


@app.task(name=RUN_JOB)
def run_job(job_id: str) -> str:
    """Re-load the job and run it. Idempotent: DynamoDB's Status decides what to do."""
    return handle_delivery(job_id, enqueue=enqueue_job)
