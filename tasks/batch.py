"""Send many JobId-only messages with SendMessageBatch (10 per request).

Celery has no batch publish, so each message is built the way kombu's SQS
channel builds one in ``Channel._put`` (``prepare_message`` →
``_inplace_augment_message`` → base64 JSON body), then sent ten at a time. These
are kombu internals: kombu is pinned (pyproject.toml), and the batch tests run
the messages through a real worker, so a change that breaks them fails loudly.
"""

from __future__ import annotations

from celery.utils import uuid
from kombu.asynchronous.aws.sqs.message import AsyncMessage
from kombu.serialization import dumps as serialize
from kombu.utils.json import dumps

from tasks.celery_app import app

SQS_BATCH = 10


def enqueue_jobs(job_ids: list[str], *, task_name: str) -> list[str]:
    """Send one message per job; returns the JobIds whose message SQS did not accept."""
    queue = app.conf.task_default_queue
    failed: list[str] = []
    with app.producer_or_acquire() as producer:
        channel = producer.channel
        url = channel._new_queue(queue)
        sqs = channel.sqs(queue=channel.canonical_queue_name(queue))
        for start in range(0, len(job_ids), SQS_BATCH):
            chunk = job_ids[start : start + SQS_BATCH]
            entries = []
            for i, job_id in enumerate(chunk):
                headers, properties, body, _ = app.amqp.as_task_v2(uuid(), task_name, args=[job_id])
                content_type, encoding, payload = serialize(body, serializer="json")
                message = channel.prepare_message(
                    payload, None, content_type, encoding, headers,
                    {**properties, "delivery_mode": 2},
                )
                channel._inplace_augment_message(message, queue, queue)
                body_text = dumps(message)
                if channel.sqs_base64_encoding:
                    body_text = AsyncMessage().encode(body_text)
                entries.append({"Id": str(i), "MessageBody": body_text})
            try:
                resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
            except Exception:  # noqa: BLE001 - the whole chunk failed: report its jobs
                failed += chunk
                continue
            failed += [chunk[int(f["Id"])] for f in resp.get("Failed", [])]
    return failed
