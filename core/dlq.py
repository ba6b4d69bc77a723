"""Dead-letter queue: mark its jobs FAILED, and move its messages back (redrive).

    python -m core.dlq redrive [--max N]
    python -m core.dlq reconcile

SQS moves a message to the DLQ when it was received maxReceiveCount times
without being deleted: its job keeps killing workers, or it sat in the prefetch
buffers of workers that died. Either way nothing will run it again, so
``reconcile_once`` (every worker runs it periodically, see tasks/celery_app.py)
marks its job FAILED with the reason, and leaves the message in the DLQ, visible,
for a redrive.

A redrive moves each message's body, unchanged (it holds only the JobId), back to
the jobs queue, after resetting its job from FAILED (dead-lettered) to QUEUED
with Attempts at 0. Order per message: reset the job, send, then delete from
the DLQ, so a crash in between leaves the message in the DLQ for the next redrive
rather than losing it.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
from dataclasses import dataclass, field

from core import store
from core.aws import client
from core.queues import queue_urls
from core.settings import settings

log = logging.getLogger("batchlab.dlq")


def job_id_of(body: str) -> str | None:
    """The JobId inside a Celery-over-SQS message body (base64 JSON envelope)."""
    try:
        envelope = json.loads(base64.b64decode(body))
        args = json.loads(base64.b64decode(envelope["body"]))[0]
        return str(args[0])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


@dataclass
class RedriveResult:
    moved: int = 0
    job_ids: list[str] = field(default_factory=list)


def redrive(*, max_messages: int = 1000) -> RedriveResult:
    sqs = client("sqs")
    urls = queue_urls()
    result = RedriveResult()
    while result.moved < max_messages:
        batch = sqs.receive_message(
            QueueUrl=urls.dlq,
            MaxNumberOfMessages=min(10, max_messages - result.moved),
            WaitTimeSeconds=1,
            VisibilityTimeout=30,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            job_id = job_id_of(message["Body"])
            if job_id:
                store.requeue_dead_letter(job_id)
            sqs.send_message(QueueUrl=urls.jobs, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=urls.dlq, ReceiptHandle=message["ReceiptHandle"])
            result.moved += 1
            if job_id:
                result.job_ids.append(job_id)
    log.info("redrove %d message(s) from the dead-letter queue", result.moved)
    return result


DEAD_LETTER_REASON = (
    "moved to the dead-letter queue: its message was received {count} times without the "
    "job finishing (a worker died holding it each time); redrive it to try again"
    # {count} is the jobs queue's maxReceiveCount: the DLQ's own receive count would
    # include this reconciler's looks.
)
_handled: dict[str, None] = {}  # MessageIds already reconciled here (insertion-ordered, capped)


def reconcile_once(*, max_messages: int = 100) -> int:
    """Mark the jobs of (new) DLQ messages FAILED; returns how many were marked.

    Steps: receive up to ``max_messages`` (hidden for 30 s while we look), mark each
    unseen message's job FAILED (conditional: only from QUEUED/PROCESSING), then
    make them all visible again so a redrive can take them at once. On an empty
    DLQ this is one ReceiveMessage call.
    """
    sqs = client("sqs")
    dlq_url = queue_urls().dlq
    received: list[dict] = []
    while len(received) < max_messages:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=30,
        ).get("Messages", [])
        if not batch:
            break
        received += batch
    marked = 0
    for message in received:
        if message["MessageId"] in _handled:
            continue
        job_id = job_id_of(message["Body"])
        count = settings.max_receive_count
        if job_id and store.fail_job(
            job_id, attempt=None, error=DEAD_LETTER_REASON.format(count=count)
        ).ok:
            marked += 1
            log.warning("job %s dead-lettered", job_id)
        _handled[message["MessageId"]] = None
        if len(_handled) > 10_000:
            del _handled[next(iter(_handled))]
    for i in range(0, len(received), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=dlq_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for n, m in enumerate(received[i : i + 10])
            ],
        )
    return marked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    move = sub.add_parser("redrive", help="move dead-lettered messages back to the jobs queue")
    move.add_argument("--max", type=int, default=1000, help="move at most this many messages")
    sub.add_parser("reconcile", help="mark the jobs of dead-lettered messages FAILED")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if args.command == "redrive":
        result = redrive(max_messages=args.max)
        print(json.dumps({"moved": result.moved, "jobIds": result.job_ids}))
    elif args.command == "reconcile":
        print(json.dumps({"marked": reconcile_once()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
