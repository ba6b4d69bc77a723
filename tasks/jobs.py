"""The one task, and how to send it. Messages carry the JobId and nothing else."""

from __future__ import annotations

from celery.exceptions import Reject
from celery.worker.request import Request

from tasks import messages
from tasks.celery_app import app
from tasks.execution import DEAD_LETTER, NOT_WRITTEN_YET, Delivery, handle_delivery

RUN_JOB = "batchlab.run_job"


def enqueue_job(job_id: str, *, delay_seconds: int | None = None) -> None:
    """Send the JobId-only message. A delay uses SQS DelaySeconds (≤ 900 s), never
    a Celery ETA: an ETA longer than the visibility timeout runs the task twice."""
    messages.send(job_id, task_name=RUN_JOB, delay_seconds=delay_seconds)


def enqueue_many(job_ids: list[str]) -> list[str]:
    """Batch send (SendMessageBatch, 10 per request); returns the JobIds not accepted."""
    return messages.send_many(job_ids, task_name=RUN_JOB)


class SqsRequest(Request):
    """Keeps the SQS facts Celery's Request drops: receive count, receipt handle, queue.

    kombu puts the raw SQS message in ``delivery_info``; Celery copies only a few
    delivery fields into the task's context (and ``redelivered`` is always False
    on SQS). The task needs the receive count to tell a redelivery, and the
    receipt handle to extend the message's visibility while a long job runs.
    """

    def __init__(self, message, *args, **kwargs):
        super().__init__(message, *args, **kwargs)
        info = message.delivery_info or {}
        sqs_message = info.get("sqs_message") or {}
        attributes = sqs_message.get("Attributes", {})
        sent = attributes.get("SentTimestamp")  # ms; celeryconfig asks kombu to fetch it
        self._request_dict["sqs"] = {
            "receive_count": int(attributes.get("ApproximateReceiveCount", 1)),
            "sent_at": int(sent) / 1000 if sent else None,
            "receipt_handle": sqs_message.get("ReceiptHandle"),
            "queue_url": info.get("sqs_queue"),
        }


@app.task(name=RUN_JOB, bind=True, Request=SqsRequest)
def run_job(self, job_id: str) -> str:
    """Re-load the job and run it. Idempotent: DynamoDB's Status decides what to do."""
    sqs = getattr(self.request, "sqs", None) or {}
    delivery = Delivery(
        receive_count=sqs.get("receive_count", 1),
        receipt_handle=sqs.get("receipt_handle"),
        queue_url=sqs.get("queue_url"),
        sent_at=sqs.get("sent_at"),
    )
    outcome = handle_delivery(job_id, enqueue=enqueue_job, delivery=delivery)
    if outcome == DEAD_LETTER:
        # Not deleted: the queue's redrive policy moves it to the DLQ on its next receive.
        raise Reject(f"job {job_id} dead-lettered", requeue=False)
    if outcome == NOT_WRITTEN_YET:
        # Not deleted either (the queue has a redrive policy): the message comes back
        # once the visibility delay set by tasks.execution._not_written runs out.
        raise Reject(f"job {job_id} not written yet", requeue=False)
    return outcome
