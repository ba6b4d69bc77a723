"""JobId-only messages, built once per JobId and sent to SQS with the process's boto3 client.

Celery's ``send_task`` spends about a millisecond of CPU per message above the
SendMessage itself (producer pool, ``maybe_declare``, the retry wrapper), which
is an eighth of the API's CPU per POST, and it has no batch publish. So the
message is built the way kombu's SQS channel builds one in ``Channel._put``
(``as_task_v2`` → ``prepare_message`` → ``_inplace_augment_message`` → JSON,
base64) and sent with :func:`core.aws.client`: one SendMessage per job, or one
SendMessageBatch per ten. The task id is the JobId, and every later message for the
job (a retry, a re-check, a recycled one) is a Celery retry of that task: same id,
``retries`` header one higher than the message that sent it. Flower then shows a
job as one task, findable by its JobId, with its attempts as retries (issue 12,
item 12). These are kombu internals: kombu is pinned
(pyproject.toml), and the integration tests run these messages through real
workers, so a change that breaks them fails loudly.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from celery.utils.nodenames import anon_nodename
from kombu.asynchronous.aws.sqs.message import AsyncMessage
from kombu.serialization import dumps as serialize
from kombu.utils.json import dumps

from core.aws import client
from core.queues import queue_urls
from tasks.celery_app import app

SQS_BATCH = 10
MAX_DELAY_SECONDS = 900  # the SQS limit for DelaySeconds

_channels: dict[int, Any] = {}


def _channel() -> Any:
    """A kombu SQS channel of this process, used only to build envelopes (no I/O)."""
    found = _channels.get(os.getpid())
    if found is None:
        found = _channels[os.getpid()] = app.connection_for_write().default_channel
    return found


@functools.cache
def _origin(pid: int) -> str:
    """The ``origin`` header Celery would set, ``gen<pid>@<host>``, once per process
    (Celery calls gethostname for every message)."""
    return anon_nodename()


def message_body(job_id: str, *, task_name: str, retries: int = 0,
                 args: list | None = None) -> str:
    """The SQS MessageBody of one Celery task message whose only argument is ``job_id``
    (or ``args``: a batch task's, issue 14).

    Its task id is ``job_id`` too; ``retries`` is how many messages for this job a
    worker sent before this one (0 for the API's first send).
    """
    channel = _channel()
    queue = app.conf.task_default_queue
    args = [job_id] if args is None else args
    # argsrepr/kwargsrepr given: Celery's saferepr of them was a third of this function.
    headers, properties, body, _ = app.amqp.as_task_v2(
        job_id, task_name, args=args, argsrepr=repr(args), kwargsrepr="{}",
        retries=retries, origin=_origin(os.getpid()),
    )
    content_type, encoding, payload = serialize(body, serializer="json")
    message = channel.prepare_message(
        payload, None, content_type, encoding, headers, {**properties, "delivery_mode": 2}
    )
    channel._inplace_augment_message(message, queue, queue)
    text = dumps(message)
    return AsyncMessage().encode(text) if channel.sqs_base64_encoding else text


def send(
    job_id: str, *, task_name: str, delay_seconds: int | None = None, retries: int = 0,
    args: list | None = None,
) -> None:
    """One SendMessage; a delay is SQS DelaySeconds (capped at 900 s). Raises if SQS refuses."""
    extra = {"DelaySeconds": min(int(delay_seconds), MAX_DELAY_SECONDS)} if delay_seconds else {}
    body = message_body(job_id, task_name=task_name, retries=retries, args=args)
    client("sqs").send_message(QueueUrl=queue_urls().jobs, MessageBody=body, **extra)


def send_many(job_ids: list[str], *, task_name: str) -> list[str]:
    """SendMessageBatch, ten per request; returns the JobIds whose message SQS did not accept."""
    sqs = client("sqs")
    url = queue_urls().jobs
    failed: list[str] = []
    for start in range(0, len(job_ids), SQS_BATCH):
        chunk = job_ids[start : start + SQS_BATCH]
        entries = [
            {"Id": str(i), "MessageBody": message_body(job_id, task_name=task_name)}
            for i, job_id in enumerate(chunk)
        ]
        try:
            resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        except Exception:  # noqa: BLE001 - the whole chunk failed: report its jobs
            failed += chunk
            continue
        failed += [chunk[int(f["Id"])] for f in resp.get("Failed", [])]
    return failed
