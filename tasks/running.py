"""While a job's handler runs: what it is given (:class:`WorkerContext`: progress and
cancellation) and what keeps its claim alive (:class:`Heartbeat`: lease and message
visibility). Used by tasks/execution.py for each attempt it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from core.aws import client
from core.jobs import store
from core.jobs.status import JobStatus
from core.settings import settings

if TYPE_CHECKING:
    from tasks.execution import Delivery

log = logging.getLogger("batchlab.worker")

# Progress and cancellation checks touch DynamoDB; rate-limit them so a fast
# job costs no extra requests (≤ 3 writes per job) and a slow one a few.
PROGRESS_MIN_INTERVAL = 2.0
CANCEL_CHECK_INTERVAL = 2.0



class WorkerContext:
    """Given to handlers: progress reports and cancellation, both rate-limited."""

    def __init__(self, job_id: str, attempt: int) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self._started = time.monotonic()
        self._last_progress_write = self._started
        self._last_cancel_check = self._started
        self._cancelled = False
        self.lost = False
        self.progress: int | None = None

    def report_progress(self, percent: int) -> None:
        percent = max(0, min(100, int(percent)))
        self.progress = percent
        now = time.monotonic()
        if percent >= 100 or now - self._last_progress_write < PROGRESS_MIN_INTERVAL:
            return
        self._last_progress_write = now
        if not store.renew_lease(
            self.job_id,
            attempt=self.attempt,
            lease_seconds=settings.lease_seconds,
            progress=percent,
        ):
            self.lost = True

    def is_cancelled(self) -> bool:
        if self._cancelled or self.lost:
            return True
        now = time.monotonic()
        if now - self._last_cancel_check < CANCEL_CHECK_INTERVAL:
            return False
        self._last_cancel_check = now
        item = store.get_item(self.job_id)
        self._cancelled = item is None or item["Status"]["S"] == JobStatus.CANCELLED.value
        return self._cancelled


class Heartbeat:
    """While a job runs, keep its lease alive and its message invisible.

    Every third of the lease (10 s by default): renew the attempt's lease in
    DynamoDB, so a pool child that dies is taken over about a lease later, and
    a live one never is. On the first beat and then every third of the
    visibility timeout: ChangeMessageVisibility back to the full timeout, so a
    long job is not redelivered (and a prefetched message, whose visibility ran
    while it waited in the buffer, gets its full timeout back). A job shorter
    than a beat costs nothing. If the lease cannot be renewed (the job was
    taken over or cancelled), the context is marked lost, which the handler
    sees as a cancellation.
    """

    def __init__(self, ctx: WorkerContext, delivery: Delivery) -> None:
        self.ctx = ctx
        self.delivery = delivery
        self.interval = settings.lease_seconds / 3
        self._visibility_due = 0.0  # monotonic time of the next visibility extension
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried next interval
                log.warning("heartbeat for job %s failed", self.ctx.job_id, exc_info=True)

    def beat(self) -> None:
        if not store.renew_lease(
            self.ctx.job_id,
            attempt=self.ctx.attempt,
            lease_seconds=settings.lease_seconds,
            progress=self.ctx.progress,
        ):
            self.ctx.lost = True
            self._stop.set()
            return
        now = time.monotonic()
        if self.delivery.receipt_handle and self.delivery.queue_url and now >= self._visibility_due:
            client("sqs").change_message_visibility(
                QueueUrl=self.delivery.queue_url,
                ReceiptHandle=self.delivery.receipt_handle,
                VisibilityTimeout=settings.visibility_timeout,
            )
            self._visibility_due = now + settings.visibility_timeout / 3
