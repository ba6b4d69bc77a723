"""What a worker does with one delivery of a JobId.

SQS delivers at least once and ``redelivered`` is always False on SQS, so the
job's Status in DynamoDB is the only truth:

* QUEUED, or PROCESSING with an expired lease → take it (conditional write);
* COMPLETED / FAILED / CANCELLED → a duplicate: acknowledge, do nothing;
* PROCESSING with a live lease → another worker holds it, even if this is a
  redelivery (SQS delivers duplicates): check back when the lease ends;
* PROCESSING with an expired lease and no attempts left → every attempt's
  worker died: FAILED, and this message goes to the DLQ at once;
* no item yet → the API sends before it writes (README, "Sent before stored"):
  wait for the write briefly, then have the message come back later, and drop
  it only once it is older than ``dispatch_grace_seconds``;
* the last receive SQS allows (maxReceiveCount) of an unfinished job → a fresh
  message, so only Attempts (never the receive count) ends a job.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.aws import client
from core.cost.meter import meter
from core.errors import DataMissing, ResultNotStored
from core.jobs import jobdata, store
from core.jobs.job import Job
from core.jobs.job_types import REGISTRY, HandlerError, JobCancelled
from core.jobs.status import TERMINAL, JobStatus
from core.operations import metrics
from core.queues import queue_urls
from core.settings import settings
from tasks.running import Heartbeat, WorkerContext

log = logging.getLogger("batchlab.worker")

Enqueue = Callable[..., None]

DEAD_LETTER = "dead-letter"
# The job is not written (yet): the message was made to come back later and must
# not be acknowledged (tasks.jobs rejects it, which leaves it in SQS).
NOT_WRITTEN_YET = "not-written-yet"


class Outcome(str):
    """An outcome that also carries the job's error or status, for the task's state in
    Flower (tasks/jobs.py). It equals and hashes as its plain name."""

    def __new__(cls, name: str, *, error: str | None = None, status: str | None = None):
        outcome = super().__new__(cls, name)
        outcome.error, outcome.status = error, status
        return outcome


@dataclass(frozen=True)
class Delivery:
    """Facts about this SQS delivery (from tasks.jobs.SqsRequest)."""

    receive_count: int = 1
    receipt_handle: str | None = None
    queue_url: str | None = None
    sent_at: float | None = None  # SQS SentTimestamp, epoch seconds
    body: str | None = None  # the raw SQS MessageBody, dead-lettered as is

    def age(self) -> float | None:
        """Seconds since the message was first sent (None if SQS did not say)."""
        return None if self.sent_at is None else max(0.0, time.time() - self.sent_at)


# A message this young whose job is not in DynamoDB yet: the API's PutItem is
# most likely in flight (it sends first), so ask again a few times in-process.
UNWRITTEN_RETRY_AGE = 2.0
UNWRITTEN_RETRY_PAUSES = (0.02, 0.05, 0.1, 0.2, 0.4)

def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0) -> int:
    """Exponential backoff with full jitter, at least 1 s, at most ``cap`` (< 900 s)."""
    return max(1, int(random.uniform(0, min(cap, base * 2 ** (attempt - 1)))))


_FINISHED = {"completed": "COMPLETED", "failed": "FAILED", DEAD_LETTER: "FAILED"}


def handle_delivery(job_id: str, *, enqueue: Enqueue, delivery: Delivery | None = None) -> str:
    """Process one delivery and record its outcome in metrics; see :func:`_process`."""
    outcome, job_type = _process(job_id, enqueue=enqueue, delivery=delivery or Delivery())
    if outcome in _FINISHED:
        metrics.JOBS_FINISHED.labels(job_type, _FINISHED[outcome]).inc()
        meter().count_job("finished")
    elif outcome == "retry":
        metrics.JOBS_RETRIED.labels(job_type).inc()
    return outcome


def _process(job_id: str, *, enqueue: Enqueue, delivery: Delivery) -> tuple[str, str]:
    """Process one delivery; returns what happened (for logs and tests) and the job's type.

    Steps:
      1. start: QUEUED/expired-PROCESSING → PROCESSING, Attempts+1 (the attempt token);
      2. run the type's handler on the stored payload;
      3. finish with one conditional write keyed on the attempt: COMPLETED,
         FAILED (permanent error or attempts exhausted), or back to QUEUED plus a
         delayed message (DelaySeconds) for a retry.
    """
    if delivery.receive_count >= settings.max_receive_count:
        return _last_receive(job_id, enqueue), "unknown"
    started = _start(job_id, delivery)
    if not started.ok:
        if started.item is None:
            return _not_written(job_id, delivery), "unknown"
        return _skip(job_id, started.item, enqueue, delivery), "unknown"
    job = store.job_from_item(started.item)
    return _run(job, enqueue=enqueue, delivery=delivery, item=started.item), job.type


def _start(job_id: str, delivery: Delivery) -> store.TransitionResult:
    """start_job; for a young message whose job is not written yet, a few more tries."""
    def start() -> store.TransitionResult:
        return store.start_job(job_id, lease_seconds=settings.lease_seconds)

    started = start()
    if started.ok or started.item is not None:
        return started
    refused = 1
    age = delivery.age()
    if age is not None and age <= UNWRITTEN_RETRY_AGE:
        for pause in UNWRITTEN_RETRY_PAUSES:
            time.sleep(pause)
            started = start()
            if started.ok:
                break
            refused += 1
            if started.item is not None:
                break
    # Each refused try is a write request (a conditional UpdateItem): said, so that a
    # job's write count above its 3 (put, start, finish) can be explained.
    log.info("job %s was not written when its message came: %d start writes refused",
             job_id, refused)
    return started


def _not_written(job_id: str, delivery: Delivery) -> str:
    """The message's job is not in DynamoDB: not written yet, never, or expired.

    The API sends the message before its PutItem, so the put may land later, or
    never (the API died, or the put failed and the client got a 503). Until the
    message is ``dispatch_grace_seconds`` old it is made visible again after a
    growing delay (ChangeMessageVisibility) and left unacknowledged; after that
    it is dropped. The delays double from 2 s and the last one reaches the grace
    while the receive count is still below maxReceiveCount, so such a message
    never lands in the DLQ.
    """
    age = delivery.age()
    delay = None if age is None else unwritten_delay(
        age=age, receive_count=delivery.receive_count, grace=settings.dispatch_grace_seconds,
        max_receive_count=settings.max_receive_count,
    )
    if delay is None or not (delivery.receipt_handle and delivery.queue_url):
        log.warning("job %s does not exist (never written, or expired); dropping", job_id)
        return "missing"
    client("sqs").change_message_visibility(
        QueueUrl=delivery.queue_url, ReceiptHandle=delivery.receipt_handle, VisibilityTimeout=delay
    )
    log.info("job %s not written yet (message %.1f s old); looking again in %d s",
             job_id, age, delay)
    return NOT_WRITTEN_YET


def unwritten_delay(
    *, age: float, receive_count: int, grace: float, max_receive_count: int
) -> int | None:
    """Seconds until a message whose job is not written comes back; None: drop it now.

    2, 4, 8… s, and the whole rest of the grace once only one receive is left
    before maxReceiveCount, so the message is dropped by a worker, never dead-lettered.
    """
    if age >= grace:
        return None
    remaining = grace - age
    receives_left = max_receive_count - 1 - receive_count
    delay = remaining if receives_left <= 1 else min(remaining, 2.0**receive_count)
    return min(43_200, max(1, math.ceil(delay)))


def _run(job: Job, *, enqueue: Enqueue, delivery: Delivery, item: dict[str, Any]) -> str:
    """Run a started job's handler and write the attempt's outcome (``item``: as started)."""
    job_id = job.id
    attempt = job.attempts
    log.info("job %s attempt %d/%d: %s started", job_id, attempt, job.max_attempts, job.type)

    registered = REGISTRY.get(job.type)
    if registered is None:
        return _finish_failed(job_id, attempt, f"job type {job.type!r} is not registered here",
                              item=item)
    ctx = WorkerContext(job_id, attempt)
    try:
        with Heartbeat(ctx, delivery), metrics.JOB_DURATION.labels(job.type).time():
            # Inline in the item, or one read of its data item / S3 object (written
            # before the item, so it is there).
            payload = jobdata.load_payload(item)
            result = registered.run(payload, ctx)
    except JobCancelled:
        log.info("job %s cancelled while running", job_id)
        return "cancelled"
    except DataMissing as exc:
        return _finish_failed(job_id, attempt, f"the payload is gone: {exc}", item=item)
    except ValidationError as exc:
        return _finish_failed(job_id, attempt, f"invalid payload: {exc.errors()[0]['msg']}",
                              item=item)
    except HandlerError as exc:
        if not exc.retryable:
            return _finish_failed(job_id, attempt, str(exc), item=item)
        return _retry_or_fail(job_id, attempt, job.max_attempts, str(exc), enqueue, item=item)
    except Exception as exc:  # noqa: BLE001 - a handler bug is a failed attempt, not a dead worker
        log.exception("job %s attempt %d raised", job_id, attempt)
        return _retry_or_fail(
            job_id, attempt, job.max_attempts, f"{type(exc).__name__}: {exc}", enqueue, item=item
        )
    if ctx.lost:
        return "lost"
    try:
        done = jobdata.complete_with_result(
            job_id, attempt=attempt, result=_json_safe(result), item=item)
    except ResultNotStored as exc:
        # Never COMPLETED without the result: the job fails, saying why.
        log.warning("job %s attempt %d: %s", job_id, attempt, exc)
        return _finish_failed(job_id, attempt, str(exc), item=item)
    if not done.ok:
        log.warning("job %s attempt %d finished but no longer holds the job", job_id, attempt)
        return "lost"
    log.info("job %s completed", job_id)
    return "completed"


def _json_safe(result: Any) -> dict[str, Any]:
    return result if isinstance(result, dict) else {"value": result}


def _skip(job_id: str, old: dict[str, Any] | None, enqueue: Enqueue, delivery: Delivery) -> str:
    if old is None:
        log.warning("job %s does not exist (expired or never written); dropping", job_id)
        return "missing"
    status = JobStatus(old["Status"]["S"])
    if status in TERMINAL:
        log.info("job %s is already %s; duplicate delivery acknowledged", job_id, status.value)
        return _duplicate(old)
    lease = int(old.get("LeaseExpiresAt", {}).get("N", "0"))
    attempts = int(old.get("Attempts", {}).get("N", "0"))
    if lease < int(time.time()) and attempts >= int(old["MaxAttempts"]["N"]):
        return _dead_letter(job_id, attempts=attempts, delivery=delivery, item=old)
    # PROCESSING under a live lease: the holder is alive (or its lease has not
    # run out yet). Check back once the lease ends, so a holder that died is
    # still taken over even though this message is acknowledged now.
    delay = max(1, min(900, lease - int(time.time()) + 1))
    enqueue(job_id, delay_seconds=delay)
    log.info("job %s is held by a live attempt; checking back in %d s", job_id, delay)
    return "held"


def _dead_letter(
    job_id: str, *, attempts: int, delivery: Delivery, item: dict[str, Any] | None = None
) -> str:
    """Every attempt's worker died: FAILED, and this message to the DLQ now (issue 12, item 18).

    Steps, in an order where the job's text is true when written:
      1. SendMessage of this delivery's body to the DLQ (a redrive finds it at once);
      2. FAILED, conditional on this attempt and its expired lease (one winner);
      3. DeleteMessage of this delivery, so SQS does not dead-letter it a second time.
    A crash after 1 leaves the message in both queues: the DLQ reconciler marks the
    job FAILED, and the jobs-queue copy is a duplicate once it is.
    """
    reason = (
        f"the worker died during each of its {attempts} attempts; moved to the "
        "dead-letter queue (redrive it to try again)"
    )
    sqs = client("sqs")
    if delivery.body is not None:
        sqs.send_message(QueueUrl=queue_urls().dlq, MessageBody=delivery.body)
    if not store.fail_abandoned(job_id, attempt=attempts, error=reason, item=item).ok:
        log.info("job %s changed while being dead-lettered; left as it is", job_id)
    if delivery.receipt_handle and delivery.queue_url:
        sqs.delete_message(QueueUrl=delivery.queue_url, ReceiptHandle=delivery.receipt_handle)
    log.warning("job %s: %s", job_id, reason)
    return Outcome(DEAD_LETTER, error=reason)


def _last_receive(job_id: str, enqueue: Enqueue) -> str:
    """The final delivery SQS allows before it would move the message to the DLQ.

    A message reaches it by sitting in the prefetch buffers of dying workers or
    coming back after errors; how often it was received says nothing about the
    job. A job that kills its workers is ended by Attempts (see :func:`_skip`),
    so an unfinished job gets a fresh message (its receive count restarts) and
    this one is acknowledged.
    """
    item = store.get_item(job_id, consistent=True)
    if item is None:
        return "missing"
    if JobStatus(item["Status"]["S"]) in TERMINAL:
        return _duplicate(item)
    enqueue(job_id)
    return "recycled"


def _duplicate(item: dict[str, Any]) -> Outcome:
    error = item.get("LastError", {}).get("S")
    return Outcome("duplicate", status=item["Status"]["S"], error=error)


def _finish_failed(job_id: str, attempt: int, error: str, *, item: dict[str, Any] | None = None) -> str:
    if not store.fail_job(job_id, attempt=attempt, error=error, item=item).ok:
        # Not written (taken over or cancelled meanwhile): not a FAILED finish of ours.
        log.warning("job %s attempt %d failed but no longer holds the job", job_id, attempt)
        return "lost"
    log.info("job %s failed: %s", job_id, error)
    return Outcome("failed", error=error)


def _retry_or_fail(
    job_id: str, attempt: int, max_attempts: int, error: str, enqueue: Enqueue,
    *, item: dict[str, Any] | None = None,
) -> str:
    if attempt >= max_attempts:
        return _finish_failed(job_id, attempt, f"gave up after {attempt} attempts: {error}",
                              item=item)
    delay = backoff_seconds(attempt)
    # The due time is stored with the retry, so the API can say when it runs (issue 15).
    if not store.retry_job(job_id, attempt=attempt, error=error, item=item,
                           next_attempt_at=int(time.time()) + delay).ok:
        return "lost"
    enqueue(job_id, delay_seconds=delay)
    log.info("job %s attempt %d failed (%s); retry in %d s", job_id, attempt, error, delay)
    return Outcome("retry", error=error)
