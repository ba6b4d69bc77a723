"""The batch tasks (issue 14): ingestion, the sweeper, finish, cancel, retry-failed,
the webhook. The logic is in core/batches; these only run it.

Each message carries the BatchId (and the webhook its attempt number) and nothing
else; each task re-reads the batch and is idempotent, so a duplicate delivery or a
redelivery after a crash (acks_late) is harmless. A task that raises is not
acknowledged (``task_acks_on_failure = False``): SQS delivers it again after the
visibility timeout. Delays (the sweeper's period, the webhook's backoff) are SQS
DelaySeconds, never a Celery countdown (README "Delivery guarantees").
"""

from __future__ import annotations

import logging
import uuid

from core.batches import ingest, lifecycle, webhook
from core.queues import RUN_JOB
from tasks import messages
from tasks.celery_app import app

log = logging.getLogger("batchlab.worker")


def send_jobs(job_ids: list[str]) -> list[str]:
    """The children's JobId-only messages (SendMessageBatch); the ids refused."""
    return messages.send_many(job_ids, task_name=RUN_JOB)


def send_task(name: str, *args, delay_seconds: int = 0) -> None:
    """One batch task message; its task id is fresh (Flower lists each run)."""
    messages.send(str(uuid.uuid4()), task_name=name, args=list(args),
                  delay_seconds=delay_seconds or None)


@app.task(name=ingest.INGEST_TASK)
def batch_ingest(batch_id: str) -> str:
    try:
        return ingest.run_slice(batch_id)
    except ingest.LeaseLost as exc:
        log.info("%s", exc)
        return "stopped"


@app.task(name=lifecycle.SWEEP_TASK)
def batch_sweep(batch_id: str) -> str:
    return lifecycle.sweep(batch_id)


@app.task(name="batchlab.batch_finish")
def batch_finish(batch_id: str) -> str:
    return lifecycle.finish(batch_id)


@app.task(name=lifecycle.CANCEL_TASK)
def batch_cancel(batch_id: str) -> str:
    return lifecycle.cancel_children(batch_id)


@app.task(name=lifecycle.RETRY_TASK)
def batch_retry(batch_id: str) -> str:
    return lifecycle.retry_failed(batch_id)


@app.task(name=webhook.WEBHOOK_TASK)
def batch_webhook(batch_id: str, attempt: int = 1) -> str:
    return webhook.deliver(batch_id, attempt)
