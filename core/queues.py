"""The SQS side: queue URLs, queue attributes, and the idempotent queue bootstrap."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from core.aws import client
from core.settings import settings

# The Celery task that carries a JobId (tasks/jobs.py): the name in every job's message.
RUN_JOB = "batchlab.run_job"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to look and redrive


@dataclass(frozen=True)
class QueueUrls:
    jobs: str
    dlq: str


@functools.cache
def queue_urls() -> QueueUrls:
    """Resolve the queue URLs once per process (settings win over GetQueueUrl)."""
    sqs = client("sqs")
    jobs = settings.queue_url or sqs.get_queue_url(QueueName=settings.queue_name)["QueueUrl"]
    dlq = settings.dlq_url or sqs.get_queue_url(QueueName=settings.dlq_name)["QueueUrl"]
    return QueueUrls(jobs=jobs, dlq=dlq)


def ensure_queues() -> QueueUrls:
    """Create (or re-configure) the jobs queue and its dead-letter queue.

    CreateQueue without attributes returns the existing URL when the queue
    exists, and SetQueueAttributes is idempotent, so this is safe to re-run and
    converges an existing queue on the configured attributes. kombu's own
    ``visibility_timeout`` option does not apply to predefined queues: the
    attributes set here are the truth.
    """
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName=settings.dlq_name)["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=dlq_url,
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    jobs_url = sqs.create_queue(QueueName=settings.queue_name)["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=jobs_url,
        Attributes={
            "VisibilityTimeout": str(settings.visibility_timeout),
            "ReceiveMessageWaitTimeSeconds": str(settings.wait_time_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_receive_count}
            ),
        },
    )
    return QueueUrls(jobs=jobs_url, dlq=dlq_url)


def queue_depths() -> dict[str, dict[str, int]]:
    """ApproximateNumberOfMessages / NotVisible / Delayed for both queues."""
    sqs = client("sqs")
    urls = queue_urls()
    out = {}
    for role, url in (("jobs", urls.jobs), ("dlq", urls.dlq)):
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        out[role] = {
            "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
            "inFlight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
        }
    return out
