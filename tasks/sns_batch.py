"""Celery events to SNS from a background thread, up to ten per PublishBatch.

kombu publishes each fanout message with one synchronous SNS Publish. For Celery's
events that was ~2.3 Publish requests per job made on the worker's event loop: +50%
worker CPU (bench/cpu.py) and the largest request count after DynamoDB's. SNS bills a
PublishBatch of up to ten messages (≤ 256 KB in all) like one Publish per 64 KB, so
batching divides both the requests and their price by up to ten.

:class:`Batcher` takes a message and returns at once; one daemon thread per process
sends what is pending when ten messages are waiting or ``linger`` seconds after the
first one arrived, whichever comes first. Events are best effort, as kombu's own
fanout publish is for us (tasks/events_sqs.py): a failed batch is logged and dropped,
and past ``max_pending`` waiting messages the oldest are dropped. :func:`batcher`
flushes at interpreter exit, so a worker's last events (``worker-offline``) go out.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

#: SNS PublishBatch limits.
MAX_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
#: A flush at exit waits at most this long.
EXIT_FLUSH_SECONDS = 3.0


@dataclass(frozen=True)
class Pending:
    client: Any  # a boto3 SNS client
    topic_arn: str
    message: str
    attributes: dict[str, Any] | None = None

    def entry(self, index: int) -> dict[str, Any]:
        entry: dict[str, Any] = {"Id": str(index), "Message": self.message}
        if self.attributes:
            entry["MessageAttributes"] = self.attributes
        return entry


class Batcher:
    """Collects SNS messages and publishes them in batches from one background thread."""

    def __init__(self, *, linger: float, max_pending: int = 10_000) -> None:
        self.linger = linger
        self.max_pending = max_pending
        self.dropped = 0
        self._pending: deque[Pending] = deque()
        self._cond = threading.Condition()
        self._sending = False
        self._flushing = 0
        self._thread: threading.Thread | None = None

    def submit(self, item: Pending) -> None:
        """Queue one message; never blocks on SNS, never raises."""
        with self._cond:
            if len(self._pending) >= self.max_pending:
                self._pending.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    logger.warning("SNS batcher full: %d event(s) dropped so far", self.dropped)
            self._pending.append(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sns-batcher", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Send everything pending now; True if it all went out within ``timeout``."""
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(
                    lambda: not self._pending and not self._sending, timeout=timeout
                )
            finally:
                self._flushing -= 1

    def _next_batch(self) -> list[Pending]:
        """Wait for a batch: ten messages, or ``linger`` after the first (under the lock)."""
        self._cond.wait_for(lambda: self._pending)
        deadline = time.monotonic() + self.linger
        while len(self._pending) < MAX_ENTRIES and not self._flushing:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._cond.wait(left)
        first = self._pending[0]
        batch: list[Pending] = []
        size = 0
        while self._pending and len(batch) < MAX_ENTRIES:
            item = self._pending[0]
            if (item.client, item.topic_arn) != (first.client, first.topic_arn):
                break  # one batch, one topic
            size += len(item.message.encode())
            if batch and size > MAX_BATCH_BYTES:
                break
            batch.append(self._pending.popleft())
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_batch()
                self._sending = True
            try:
                self._publish(batch)
            finally:
                with self._cond:
                    self._sending = False
                    self._cond.notify_all()

    @staticmethod
    def _publish(batch: list[Pending]) -> None:
        first = batch[0]
        try:
            resp = first.client.publish_batch(
                TopicArn=first.topic_arn,
                PublishBatchRequestEntries=[item.entry(i) for i, item in enumerate(batch)],
            )
        except (BotoCoreError, ClientError, OSError) as exc:
            logger.warning("%d Celery event(s) not published to SNS: %r", len(batch), exc)
            return
        failed = resp.get("Failed") or []
        if failed:
            logger.warning(
                "%d of %d Celery event(s) refused by SNS: %s",
                len(failed), len(batch), failed[0].get("Message") or failed[0].get("Code"),
            )


_batchers: dict[int, Batcher] = {}
_lock = threading.Lock()


def batcher(linger: float) -> Batcher:
    """This process's batcher (a forked child gets its own), flushed at exit."""
    pid = os.getpid()
    found = _batchers.get(pid)
    if found is None:
        with _lock:
            found = _batchers.get(pid)
            if found is None:
                found = _batchers[pid] = Batcher(linger=linger)
                atexit.register(found.flush, EXIT_FLUSH_SECONDS)
    return found
