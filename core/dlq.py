"""Dead-letter queue: look at it and move its messages back (redrive).

    python -m core.dlq redrive [--max N]

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    move = sub.add_parser("redrive", help="move dead-lettered messages back to the jobs queue")
    move.add_argument("--max", type=int, default=1000, help="move at most this many messages")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if args.command == "redrive":
        result = redrive(max_messages=args.max)
        print(json.dumps({"moved": result.moved, "jobIds": result.job_ids}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
