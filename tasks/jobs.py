"""The one task, and how to send it. Messages carry the JobId and nothing else."""

from __future__ import annotations

from celery.exceptions import Reject
from celery.worker.request import Request

from tasks import messages
from tasks.celery_app import app
from tasks.execution import DEAD_LETTER, Delivery, handle_delivery

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
        self._request_dict["sqs"] = {
            "receive_count": int(sqs_message.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
            "receipt_handle": sqs_message.get("ReceiptHandle"),
            "queue_url": info.get("sqs_queue"),
            "body": sqs_message.get("Body"),  # dead-lettered as is (tasks.execution)
        }


@app.task(name=RUN_JOB, bind=True, Request=SqsRequest)
def run_job(self, job_id: str) -> str:
    """Re-load the job and run it. Idempotent: DynamoDB's Status decides what to do."""
    sqs = getattr(self.request, "sqs", None) or {}
    delivery = Delivery(
        receive_count=sqs.get("receive_count", 1),
        receipt_handle=sqs.get("receipt_handle"),
        queue_url=sqs.get("queue_url"),
        body=sqs.get("body"),
    )
    outcome = handle_delivery(job_id, enqueue=enqueue_job, delivery=delivery)
    if outcome == DEAD_LETTER:
        # Already copied to the DLQ and deleted (tasks.execution._dead_letter);
        # the reject only tells Celery the task did not succeed.
        raise Reject(f"job {job_id} dead-lettered", requeue=False)
    return outcome
