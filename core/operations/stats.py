"""What the queue panel shows: SQS depths, job counts per status, recent throughput.

Two views, both cached per process for ``stats_cache_seconds`` (many open panels
cost one read) and capped (the answer then says ``truncated``):

* ``overview()``, everything (operators, open mode): the queues' depths and job
  counts from one paginated Scan projecting Status and FinishedAt, capped at
  ``stats_max_items`` items. On real AWS a Scan reads the whole table's size in
  read units: with the 6 h TTL and the seed's 100 jobs/s that is ~2 GB, ~270k RCU.
* ``owner_overview()``, one tenant's own jobs, no queue depths (they are every
  tenant's): a Query on the KEYS_ONLY owner index for the owner's newest
  ``owner_stats_max_items`` JobIds, then BatchGetItem (100 keys per request) of
  their Status and FinishedAt. Read cost for N jobs: the Query reads ~100-byte
  index entries (~0.0125 RCU each, eventually consistent), BatchGetItem 0.5 RCU per
  item of up to 4 KB whatever the projection: ~0.51·N RCU and N/100 + 1 requests,
  ≤ ~515 RCU at the default cap of 1,000. A Scan filtered on OwnerId would be billed
  for the whole table (every tenant's items) on every refresh, ~500× more at the
  seed's scale, and capping it would miscount. Projecting Status into the index
  would make every status transition an index write too (core/jobs/listing.py).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from core.aws import client
from core.jobs.job import _Camel
from core.jobs.listing import batch_get, owner_index_query
from core.jobs.status import JobStatus
from core.queues import queue_depths
from core.settings import settings

WINDOW_SECONDS = 60


class QueueInfo(_Camel):
    name: str
    role: str
    messages_visible: int
    messages_in_flight: int
    messages_delayed: int


class QueueOverview(_Camel):
    # "all": every job and both queues (operators, open mode); "owner": one
    # tenant's own jobs, without the queues and Flower (they show every tenant's work).
    scope: Literal["all", "owner"] = "all"
    owner_id: str | None = None
    queues: list[QueueInfo]
    jobs_by_status: dict[str, int]
    completed_per_second: float
    jobs_counted: int
    truncated: bool
    flower_url: str | None


_lock = threading.Lock()
_cached: tuple[float, QueueOverview] | None = None
_owner_lock = threading.Lock()
_owner_cached: dict[str, tuple[float, QueueOverview]] = {}
_OWNER_CACHE_SIZE = 1024  # owners whose view is kept; the oldest go first


def _since() -> str:
    return (datetime.now(UTC) - timedelta(seconds=WINDOW_SECONDS)).isoformat().replace("+00:00", "Z")


def _count_jobs() -> tuple[dict[str, int], int, int, bool]:
    counts = {s.value: 0 for s in JobStatus}
    since = _since()
    recent = seen = 0
    params: dict[str, Any] = {
        "TableName": settings.table_name,
        "ProjectionExpression": "#s, FinishedAt",
        # Jobs only: the table also holds payload/result data items (core/jobs/jobdata.py).
        "FilterExpression": "attribute_exists(#s)",
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


def _owner_job_keys(owner_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The owner's newest JobIds (at most the cap) from the KEYS_ONLY index."""
    cap = settings.owner_stats_max_items
    keys: list[dict[str, Any]] = []
    params = owner_index_query(owner_id)
    while True:
        params["Limit"] = cap - len(keys) + 1  # one more than needed tells "truncated"
        page = client("dynamodb").query(**params)
        keys.extend({"JobId": item["JobId"]} for item in page.get("Items", []))
        if len(keys) > cap:
            return keys[:cap], True
        params["ExclusiveStartKey"] = page.get("LastEvaluatedKey")
        if not params["ExclusiveStartKey"]:
            return keys, False


def _owner_items(keys: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """Status and FinishedAt of ``keys``; True if some stayed unread (the count is partial)."""
    return batch_get(keys, projection="#s, FinishedAt", names={"#s": "Status"})


def owner_overview(*, owner_id: str) -> QueueOverview:
    """One owner's job counts and throughput (what a tenant sees on /api/queues)."""
    now = time.monotonic()
    with _owner_lock:
        found = _owner_cached.get(owner_id)
        if found and now - found[0] < settings.stats_cache_seconds:
            return found[1]
    keys, truncated = _owner_job_keys(owner_id)
    items, partial = _owner_items(keys)
    counts = {s.value: 0 for s in JobStatus}
    since = _since()
    recent = 0
    for item in items:  # a job gone between Query and read (TTL) is simply absent
        status = item["Status"]["S"]
        counts[status] = counts.get(status, 0) + 1
        if status == JobStatus.COMPLETED.value and item.get("FinishedAt", {}).get("S", "") >= since:
            recent += 1
    result = QueueOverview(
        scope="owner",
        owner_id=owner_id,
        queues=[],
        jobs_by_status=counts,
        completed_per_second=round(recent / WINDOW_SECONDS, 3),
        jobs_counted=len(items),
        truncated=truncated or partial,
        flower_url=None,
    )
    with _owner_lock:
        _owner_cached.pop(owner_id, None)  # re-inserted last: the oldest go first
        _owner_cached[owner_id] = (time.monotonic(), result)
        while len(_owner_cached) > _OWNER_CACHE_SIZE:
            _owner_cached.pop(next(iter(_owner_cached)))
    return result
