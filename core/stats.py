"""What the queue panel shows: SQS depths, job counts per status, recent throughput.

Job counts come from one paginated Scan (projecting Status and FinishedAt), cached
per process for ``stats_cache_seconds`` so that many open panels cost one scan,
and capped at ``stats_max_items`` items (the answer then says ``truncated``).
On real AWS a Scan reads the whole table's size in read units: with the 6 h
TTL and the seed's 100 jobs/s that is ~2 GB, so raise the cap only knowingly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from core.aws import client
from core.job import _Camel
from core.queues import queue_depths
from core.settings import settings
from core.status import JobStatus

WINDOW_SECONDS = 60


class QueueInfo(_Camel):
    name: str
    role: str
    messages_visible: int
    messages_in_flight: int
    messages_delayed: int


class QueueOverview(_Camel):
    queues: list[QueueInfo]
    jobs_by_status: dict[str, int]
    completed_per_second: float
    jobs_counted: int
    truncated: bool
    flower_url: str


_lock = threading.Lock()
_cached: tuple[float, QueueOverview] | None = None


def _count_jobs() -> tuple[dict[str, int], int, int, bool]:
    counts = {s.value: 0 for s in JobStatus}
    since = (datetime.now(UTC) - timedelta(seconds=WINDOW_SECONDS)).isoformat().replace("+00:00", "Z")
    recent = seen = 0
    params: dict[str, Any] = {
        "TableName": settings.table_name,
        "ProjectionExpression": "#s, FinishedAt",
        "ExpressionAttributeNames": {"#s": "Status"},
    }
    while True:
        page = client("dynamodb").scan(**params)
        for item in page.get("Items", []):
            status = item["Status"]["S"]
            counts[status] = counts.get(status, 0) + 1
            if status == JobStatus.COMPLETED.value and item.get("FinishedAt", {}).get("S", "") >= since:
                recent += 1
        seen += page.get("Count", 0)
        params["ExclusiveStartKey"] = page.get("LastEvaluatedKey")
        if not params["ExclusiveStartKey"]:
            return counts, recent, seen, False
        if seen >= settings.stats_max_items:
            return counts, recent, seen, True


def overview() -> QueueOverview:
    global _cached
    with _lock:
        if _cached and time.monotonic() - _cached[0] < settings.stats_cache_seconds:
            return _cached[1]
        depths = queue_depths()
        counts, recent, seen, truncated = _count_jobs()
        names = {"jobs": settings.queue_name, "dlq": settings.dlq_name}
        result = QueueOverview(
            queues=[
                QueueInfo(
                    name=names[role],
                    role=role,
                    messages_visible=d["visible"],
                    messages_in_flight=d["inFlight"],
                    messages_delayed=d["delayed"],
                )
                for role, d in depths.items()
            ],
            jobs_by_status=counts,
            completed_per_second=round(recent / WINDOW_SECONDS, 3),
            jobs_counted=seen,
            truncated=truncated,
            flower_url=settings.flower_url,
        )
        _cached = (time.monotonic(), result)
        return result
