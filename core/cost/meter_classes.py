"""Which cost class an AWS request belongs to: ``job`` or ``fixed``. Pure: no I/O.

``/api/cost`` shows what each job costs apart from what the fleet costs while idle
(issue 13: after two jobs, a new user saw "$36 per million jobs" because idle
heartbeats were divided by two jobs). The meter puts each request in one class:

* **job**: a request that carries a job or its data: the job's DynamoDB item (and its
  payload/result items or S3 objects), its SQS message (send, a receive that brought
  messages, delete, visibility change) and Celery's task events (an SNS publish or a
  Flower receive carrying at least one ``task.*`` event, and the delete after it);
* **fixed**: everything the fleet does whether or not jobs run: long polls that come
  back empty, worker heartbeats (an SNS publish of heartbeats only, Flower's receive
  and delete of them), remote control (pidbox, replies), the meter's own writes, the
  ``/api/queues`` Scan and queue-depth reads, and set-up calls (GetQueueUrl,
  CreateQueue, Subscribe, the bootstrap's).

A request mixing both (a PublishBatch with heartbeats and task events) is ``job``: it
was sent for the job. So under load some heartbeats ride in job requests and the fixed
cost measured while busy is slightly below the idle one; the idle one is the upper bound.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from core.settings import settings

# A Celery task event in a kombu message: {"properties": {"delivery_info":
# {"routing_key": "task.started"}}}; inside an SNS envelope the quotes are escaped.
_TASK_EVENT = re.compile(r'routing_key\\*"\s*:\s*\\*"task\.')
_S3_JOB_OPS = frozenset({
    "GetObject", "PutObject", "HeadObject", "DeleteObject", "CopyObject",
    "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload",
})
_DYNAMODB_ITEM_OPS = frozenset({
    "PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query",
    "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
})
_SQS_MESSAGE_OPS = frozenset({
    "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
})

#: Queue URL -> class of the last ReceiveMessage on it in this process: the delete that
#: follows a receive (Flower's DeleteMessageBatch of events) has the receive's class.
_last_receive: dict[str, str] = {}


def has_task_event(text: str) -> bool:
    """Whether a kombu message (raw, base64, or in an SNS envelope) is a task event."""
    if _TASK_EVENT.search(text):
        return True
    if text and "{" not in text[:1]:
        try:
            decoded = base64.b64decode(text, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return False
        return bool(_TASK_EVENT.search(decoded))
    return False


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _job_queue(url: str) -> bool:
    return _queue_name(url) in (settings.queue_name, settings.dlq_name)


def _sqs(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> str:
    url = str(params.get("QueueUrl", ""))
    if operation == "ReceiveMessage":
        bodies = [str(m.get("Body", "")) for m in parsed.get("Messages") or []]
        if not bodies:
            cost_class = "fixed"  # an empty long poll: the fleet waiting
        elif _job_queue(url):
            cost_class = "job"
        else:
            cost_class = "job" if any(has_task_event(b) for b in bodies) else "fixed"
        _last_receive[url] = cost_class
        return cost_class
    if operation in _SQS_MESSAGE_OPS:
        return "job" if _job_queue(url) else _last_receive.get(url, "fixed")
    if operation in ("SendMessage", "SendMessageBatch"):
        return "job" if _job_queue(url) else "fixed"
    return "fixed"


def _sns(operation: str, params: dict[str, Any]) -> str:
    if operation == "Publish":
        return "job" if has_task_event(str(params.get("Message", ""))) else "fixed"
    if operation == "PublishBatch":
        entries = params.get("PublishBatchRequestEntries") or []
        return "job" if any(has_task_event(str(e.get("Message", ""))) for e in entries) else "fixed"
    return "fixed"


def classify(service: str, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> str:
    """``job`` or ``fixed`` for one request (see the module docstring)."""
    if service == "dynamodb":
        if params.get("TableName") == settings.meters_table_name:
            return "fixed"
        return "job" if operation in _DYNAMODB_ITEM_OPS else "fixed"
    if service == "sqs":
        return _sqs(operation, params, parsed)
    if service == "sns":
        return _sns(operation, params)
    if service == "s3":
        return "job" if operation in _S3_JOB_OPS else "fixed"
    return "fixed"
