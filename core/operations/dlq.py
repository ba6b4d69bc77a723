"""Dead-letter queue: mark its jobs FAILED, and move its messages back (redrive).

    python -m core.operations.dlq redrive [--max N]
    python -m core.operations.dlq reconcile

SQS moves a message to the DLQ when it was received maxReceiveCount times
without being deleted: its job keeps killing workers, or it sat in the prefetch
buffers of workers that died. Either way nothing will run it again, so
``reconcile_once`` (every worker runs it periodically, see tasks/celery_app.py)
marks its job FAILED with the reason, and leaves the message in the DLQ, visible,
for a redrive.

A redrive moves each message's body, unchanged (it holds only the JobId), back to
the jobs queue, after resetting its job from FAILED (dead-lettered) to QUEUED
with Attempts at 0; a batch's child is run again by its batch's retry-failed, which
keeps the batch's counts exact. Order per message: reset the job, send, then delete from
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
from typing import Any

from core.aws import client
from core.jobs import listing, store
from core.jobs.hot import unmarshal
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


def _move(sqs: Any, urls: Any, message: dict[str, Any], result: RedriveResult) -> None:
    """Redrive one DLQ message: reset its job, send its body to the jobs queue, delete it.

    A batch's child is counted in its batch (FAILED, once dead-lettered), so resetting
    it alone would leave the batch's counts saying FAILED after it completes. It is
    redriven through its batch instead (:func:`_redrive_in_batch`)."""
    job_id = job_id_of(message["Body"])
    item = store.get_item(job_id, consistent=True) if job_id else None
    if item is not None and "BatchId" in item:
        _redrive_in_batch(item["BatchId"]["S"], job_id)
    else:
        if job_id:
            store.requeue_dead_letter(job_id)
        sqs.send_message(QueueUrl=urls.jobs, MessageBody=message["Body"])
    sqs.delete_message(QueueUrl=urls.dlq, ReceiptHandle=message["ReceiptHandle"])
    result.moved += 1
    if job_id:
        result.job_ids.append(job_id)


def _redrive_in_batch(batch_id: str, job_id: str) -> None:
    """Run a batch's FAILED children again, this one among them, with the batch's own
    retry-failed: it takes them back out of the counts and the feeding window sends
    them, so the counts stay exact (core/batches/lifecycle.py). Its DLQ message is then
    deleted by the caller: the retry sends the child a message of its own. A cancelled
    batch runs nothing more, and a retry already under way takes the child too."""
    from core.batches import service as batches  # imported here: it builds on core.jobs
    from core.errors import BatchConflict

    try:
        batches.retry_failed(batch_id)
    except BatchConflict as exc:
        log.info("job %s (batch %s) not redriven by its batch: %s", job_id, batch_id, exc)


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
            _move(sqs, urls, message, result)
    log.info("redrove %d message(s) from the dead-letter queue", result.moved)
    return result


# --- looking into the DLQ (GET /api/dlq, one job's redrive) ------------------------

PEEK_SECONDS = 10  # how long a look hides the messages if it dies before showing them again
PEEK_MAX = 1000  # messages one look (or one job's redrive) reads at most


def _receive_all(*, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` distinct DLQ messages, hidden for PEEK_SECONDS (SQS has no peek:
    a receive hides what it returns, so later receives return the others). The caller
    shows them again with :func:`_show_again` (or deletes them)."""
    sqs = client("sqs")
    url = queue_urls().dlq
    received: dict[str, dict[str, Any]] = {}
    while len(received) < limit:
        # A 1 s long poll: a short one asks only some of SQS's servers, and may come
        # back empty while messages remain (the list would end early).
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, limit - len(received)),
            WaitTimeSeconds=1, VisibilityTimeout=PEEK_SECONDS,
        ).get("Messages", [])
        if not batch:
            break
        received.update({m["MessageId"]: m for m in batch})
    return list(received.values())


def _show_again(messages: list[dict[str, Any]]) -> None:
    url = queue_urls().dlq
    for i in range(0, len(messages), 10):
        client("sqs").change_message_visibility_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                     for n, m in enumerate(messages[i:i + 10])],
        )


def approximate_count() -> int:
    attrs = client("sqs").get_queue_attributes(
        QueueUrl=queue_urls().dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attrs.get("ApproximateNumberOfMessages", 0))


def dead_letters(*, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """The DLQ's approximate size and up to ``limit`` of its jobs (one per JobId), each
    with what its hot item says: type, owner, last error, attempts, and when it was
    marked dead-lettered (FinishedAt; null until a worker's reconcile marks it).

    Cost: one GetQueueAttributes, ReceiveMessage per 10 messages, one
    ChangeMessageVisibilityBatch per 10 (to show them again at once), one
    BatchGetItem per 100 jobs. While a look runs (and for PEEK_SECONDS if its process
    dies) a redrive or reconcile does not see those messages.
    """
    count = approximate_count()
    messages = _receive_all(limit=limit)
    try:
        job_ids = list(dict.fromkeys(j for m in messages if (j := job_id_of(m["Body"]))))
        keys = [{"JobId": {"S": j}} for j in job_ids]
        items, _ = listing.batch_get(
            keys, projection="JobId, OwnerId, #t, LastError, Attempts, FinishedAt, DeadLettered",
            names={"#t": "Type"})
    finally:
        _show_again(messages)
    by_id = {item["JobId"]["S"]: unmarshal(item) for item in items}
    out = []
    for job_id in job_ids:
        raw = by_id.get(job_id, {})
        out.append({
            "job_id": job_id,
            "type": raw.get("Type"),
            "owner_id": raw.get("OwnerId"),
            "last_error": raw.get("LastError"),
            "attempts": int(raw["Attempts"]) if "Attempts" in raw else None,
            "dead_lettered_at": raw.get("FinishedAt") if raw.get("DeadLettered") else None,
        })
    return max(count, len(messages)), out


def redrive_job(job_id: str) -> RedriveResult:
    """Redrive one job's dead-lettered message(s): the DLQ is read (at most PEEK_MAX
    messages) for those carrying ``job_id``; they are moved as :func:`redrive` moves
    them, the others shown again. ``moved`` is 0 if the job has none there."""
    sqs = client("sqs")
    urls = queue_urls()
    messages = _receive_all(limit=PEEK_MAX)
    mine = [m for m in messages if job_id_of(m["Body"]) == job_id]
    result = RedriveResult()
    try:
        for message in mine:
            _move(sqs, urls, message, result)
    finally:
        _show_again([m for m in messages if m not in mine])
    result.job_ids = list(dict.fromkeys(result.job_ids))
    log.info("redrove job %s: %d message(s)", job_id, result.moved)
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
