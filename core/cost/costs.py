"""What jobs cost and what the idle fleet costs, over a window, across every process.

Each process counts its own AWS requests (core.cost.meter: by call and cost class, plus
DynamoDB capacity units reported and computed) and, every ``meter_flush_seconds``,
writes what it counted during the current minute to the meters table: one item per
process per minute (``Day`` = UTC date, ``Slot`` = minute + process), rewritten at
each flush of that minute, expiring after a day. Every process writes: the API, both
worker processes, Flower (tasks.celery_app) and the bootstrap (one flush at its end).

``report(window_seconds)`` Queries the window's minutes (one Query per UTC day it
spans) and sums them into:

* **per job** (class ``job``): requests and billed units per job created in the window,
  and ``$ per million jobs`` = Σ requests or units × price / jobs × 10⁶;
* **fixed** (class ``fixed``): requests and units per hour of the window actually
  covered (from its oldest minute to now), and ``$ per hour`` of the fleet that
  produced them, whatever the jobs.

The meter's own cost: one PutItem per process per flush (a ~0.5 KB item: 1 WRU),
i.e. 360 per process per hour at the default 10 s, ~$0.00023 per process-hour;
each report reads the window's items (~0.5 KB each; an hour of 5 processes is
300 items, ~150 KB: ~19 RRU, $0.0000024). Both are in the fixed figures.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from core.aws import client
from core.cost.meter import CLASSES, meter
from core.jobs.job import _Camel
from core.operations import charts
from core.queues import queue_depths
from core.settings import settings

log = logging.getLogger("batchlab.costs")

DESIGN_JOBS_PER_SECOND = 100
SECONDS_PER_MONTH = 30 * 24 * 3600
# The design document's cost model (§11), monthly at 100 jobs/s (259.2 M jobs).
DESIGN_MONTHLY = {"sqs": 103.0, "sqsBatched": 10.0, "dynamodbWrites": 246.38, "dynamodbReads": 4.93}
METER_TTL_SECONDS = 24 * 3600
# S3 request tiers (us-east-1): PUT/COPY/POST/LIST and multipart calls at the write
# price, GET/HEAD and the rest at the read price; DELETE and abort are free.
_S3_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart",
                        "CompleteMultipartUpload", "ListObjects", "ListObjectsV2",
                        "ListMultipartUploads", "ListParts", "PutObject:presigned",
                        "UploadPart:presigned"})
_S3_FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload"})
_WRITE_OPS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


class CostReport(_Camel):
    window_seconds: int
    covered_seconds: int | None
    processes: int
    roles: dict[str, int]
    jobs_created: int
    jobs_finished: int
    requests: dict[str, int]
    per_job: dict[str, float | None]
    dollars_per_million_jobs: dict[str, float | None]
    fixed_per_hour: dict[str, float | None]
    fixed_dollars_per_hour: dict[str, float | None]
    fixed_requests: dict[str, int]
    capacity_units: dict[str, Any]
    monthly_at_design_rate: dict[str, float | None]
    design_model: dict[str, Any] = Field(default_factory=dict)
    prices: dict[str, float]


# --- writing: one item per process per minute ----------------------------------


def _process_id(role: str) -> str:
    return f"{role}:{socket.gethostname()}:{os.getpid()}"


def _minus(now: Any, base: Any) -> Any:
    """``now - base`` of nested dicts of numbers, dropping zeros."""
    if isinstance(now, dict):
        out = {k: _minus(v, (base or {}).get(k)) for k, v in now.items()}
        return {k: v for k, v in out.items() if v not in ({}, 0, 0.0)}
    return round(now - (base or 0), 3) if isinstance(now, float) else now - (base or 0)


class _Flushes:
    """What this process flushed: the minute being written and its starting counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.minute: int | None = None
        self.base: dict[str, Any] = {}  # cumulative counts when this minute began
        self.last: dict[str, Any] = {}  # cumulative counts at the last successful flush


_state: dict[int, _Flushes] = {}


def flush(role: str) -> None:
    """Write this minute's counts of this process (skipped if nothing but its own
    previous flush happened since)."""
    state = _state.setdefault(os.getpid(), _Flushes())
    with state.lock:
        now = time.time()
        snap = meter().snapshot()
        minute = int(now // 60) * 60
        if state.minute != minute:
            state.minute, state.base = minute, state.last
        since_last = _minus(snap, state.last)
        if state.last and (not since_last or _only_meter(since_last)) and not charts.has_pending():
            return
        delta = _minus(snap, state.base)
        day = datetime.fromtimestamp(minute, UTC).strftime("%Y-%m-%d")
        # The charts' per-minute aggregate rides on this write (issue 15: no per-job write);
        # the API also samples the jobs queue's depth for them, once a minute.
        chart = charts.take(minute, sample_depth=_jobs_queue_depth if role == "api" else None)
        client("dynamodb").put_item(
            TableName=settings.meters_table_name,
            Item={
                **({"Charts": {"S": chart}} if chart else {}),
                "Day": {"S": day},
                "Slot": {"S": f"{minute:010d}#{_process_id(role)}"},
                "Process": {"S": _process_id(role)},
                "Role": {"S": role},
                "Minute": {"N": str(minute)},
                "Counts": {"S": json.dumps(delta, separators=(",", ":"))},
                "ExpiresAt": {"N": str(minute + METER_TTL_SECONDS)},
            },
        )
        state.last = snap


def _jobs_queue_depth() -> int | None:
    try:
        return queue_depths()["jobs"]["visible"]
    except (BotoCoreError, ClientError):
        return None


def _only_meter(delta: dict[str, Any]) -> bool:
    calls = [c for cls in delta.get("requests", {}).values() for c in cls]
    # Only this process's own previous flush (its PutItem) happened since.
    return bool(calls) and all(c == "dynamodb.PutItem:meter" for c in calls) and not delta.get("jobs")


_flushers: dict[int, threading.Thread] = {}


def flush_once(role: str) -> None:
    """One flush, errors logged (a one-shot process: the bootstrap, at its end)."""
    try:
        flush(role)
    except (BotoCoreError, ClientError) as exc:
        log.warning("meter flush failed: %r", exc)


def start_flusher(role: str) -> None:
    """Write this process's counts periodically and at exit (once per process)."""
    pid = os.getpid()
    if settings.meter_flush_seconds <= 0 or pid in _flushers:
        return
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(settings.meter_flush_seconds):
            try:
                flush(role)
            except Exception as exc:  # noqa: BLE001 - keep metering; the next flush carries all
                log.warning("meter flush failed: %r", exc)

    def final() -> None:
        stop.set()
        try:
            flush(role)
        except (BotoCoreError, ClientError):  # the backend may be gone at exit
            pass

    thread = threading.Thread(target=loop, name="meter-flush", daemon=True)
    _flushers[pid] = thread
    thread.start()
    atexit.register(final)


# --- reading: the window's minutes ------------------------------------------------


def _add(total: dict[str, Any], part: dict[str, Any]) -> None:
    for k, v in part.items():
        if isinstance(v, dict):
            _add(total.setdefault(k, {}), v)
        else:
            total[k] = total.get(k, 0) + v


def window_items(window_seconds: int, *, now: float | None = None) -> list[dict[str, Any]]:
    """The meters' items of the minutes in the window: one Query per UTC day."""
    now = time.time() if now is None else now
    start = int((now - window_seconds) // 60) * 60
    day = datetime.fromtimestamp(start, UTC).date()
    last = datetime.fromtimestamp(now, UTC).date()
    items: list[dict[str, Any]] = []
    while day <= last:
        params: dict[str, Any] = {
            "TableName": settings.meters_table_name,
            "KeyConditionExpression": "#d = :d AND Slot >= :from",
            "ExpressionAttributeNames": {"#d": "Day"},
            "ExpressionAttributeValues": {":d": {"S": day.isoformat()},
                                          ":from": {"S": f"{start:010d}"}},
        }
        while True:
            page = client("dynamodb").query(**params)
            items += page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        day += timedelta(days=1)
    return items


def prices() -> dict[str, float]:
    return {
        "sqsPerMillionRequests": settings.price_sqs_per_million,
        "snsPerMillionPublishes": settings.price_sns_per_million,
        "s3PerMillionWrites": settings.price_s3_write_per_million,
        "s3PerMillionReads": settings.price_s3_read_per_million,
        "dynamodbPerMillionWriteUnits": settings.price_dynamodb_write_per_million,
        "dynamodbPerMillionReadUnits": settings.price_dynamodb_read_per_million,
    }


def figures(requests: dict[str, int], units: dict[str, float]) -> dict[str, float]:
    """The priced quantities of one class: request counts by service and billed units."""
    def total(pred: Any) -> int:
        return sum(n for call, n in requests.items() if pred(*call.split(".", 1)))

    return {
        "sqsRequests": total(lambda s, _: s == "sqs"),
        # Publish and PublishBatch (≤ 10 events, well under 64 KB: billed as one request).
        "snsRequests": total(lambda s, o: s == "sns" and o.startswith("Publish")),
        "s3WriteRequests": total(lambda s, o: s == "s3" and o in _S3_WRITES),
        "s3ReadRequests": total(lambda s, o: s == "s3" and o not in _S3_WRITES and o not in _S3_FREE),
        "dynamodbRequests": total(lambda s, _: s == "dynamodb"),
        "dynamodbWriteRequests": total(lambda s, o: s == "dynamodb" and o.split(":")[0] in _WRITE_OPS),
        "dynamodbWriteUnits": units.get("writeBilled", 0.0),
        "dynamodbReadUnits": units.get("readBilled", 0.0),
        "meterWrites": total(lambda s, o: s == "dynamodb" and o.endswith(":meter")),
    }


def dollars(quantities: dict[str, float | None]) -> dict[str, float | None]:
    """$ for the quantities (per job × 10⁶, or per hour): by service and in all."""
    if quantities.get("sqsRequests") is None:
        return dict.fromkeys(("sqs", "sns", "s3", "dynamodbWrites", "dynamodbReads", "total"))
    q = {k: v or 0.0 for k, v in quantities.items()}
    out = {
        "sqs": q["sqsRequests"] * settings.price_sqs_per_million,
        "sns": q["snsRequests"] * settings.price_sns_per_million,
        "s3": q.get("s3WriteRequests", 0) * settings.price_s3_write_per_million
        + q.get("s3ReadRequests", 0) * settings.price_s3_read_per_million,
        "dynamodbWrites": q["dynamodbWriteUnits"] * settings.price_dynamodb_write_per_million,
        "dynamodbReads": q["dynamodbReadUnits"] * settings.price_dynamodb_read_per_million,
    }
    out["total"] = sum(out.values())
    return {k: round(v, 4) for k, v in out.items()}


def report(window_seconds: int | None = None) -> CostReport:
    window = window_seconds or settings.cost_window_seconds
    now = time.time()
    items = window_items(window, now=now)
    counts: dict[str, Any] = {}
    processes: dict[str, str] = {}
    for item in items:
        _add(counts, json.loads(item["Counts"]["S"]))
        processes[item["Process"]["S"]] = item["Role"]["S"]
    oldest = min((int(i["Minute"]["N"]) for i in items), default=None)
    covered = None if oldest is None else int(min(window, max(60.0, now - oldest)))
    requests = {c: counts.get("requests", {}).get(c, {}) for c in CLASSES}
    units = {c: counts.get("units", {}).get(c, {}) for c in CLASSES}
    jobs = counts.get("jobs", {})
    created = int(jobs.get("created", 0))

    job_figures = figures(requests["job"], units["job"])
    per_job: dict[str, float | None] = {
        k: (round(v / created, 4) if created else None) for k, v in job_figures.items()
        if k != "meterWrites"
    }
    per_million = dollars(per_job)
    hours = covered / 3600 if covered else None
    fixed_figures = figures(requests["fixed"], units["fixed"])
    fixed_per_hour: dict[str, float | None] = {
        k: (round(v / hours, 3) if hours else None) for k, v in fixed_figures.items()
    }
    fixed_hourly = {k: (round(v * 1e-6, 8) if v is not None else None)
                    for k, v in dollars(fixed_per_hour).items()}
    month_jobs_millions = DESIGN_JOBS_PER_SECOND * SECONDS_PER_MONTH / 1e6
    monthly = {k: (round(v * month_jobs_millions, 2) if v is not None else None)
               for k, v in per_million.items()}
    all_calls: dict[str, int] = {}
    for cls in CLASSES:
        _add(all_calls, requests[cls])
    roles: dict[str, int] = {}
    for role in processes.values():
        roles[role] = roles.get(role, 0) + 1
    return CostReport(
        window_seconds=window,
        covered_seconds=covered,
        processes=len(processes),
        roles=dict(sorted(roles.items())),
        jobs_created=created,
        jobs_finished=int(jobs.get("finished", 0)),
        requests=dict(sorted(all_calls.items())),
        per_job=per_job,
        dollars_per_million_jobs=per_million,
        fixed_per_hour=fixed_per_hour,
        fixed_dollars_per_hour=fixed_hourly,
        fixed_requests=dict(sorted(requests["fixed"].items())),
        capacity_units=_capacity_units(units),
        monthly_at_design_rate=monthly,
        design_model=design_model(),
        prices=prices(),
    )


def _capacity_units(units: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Both figures per class, and which one is priced (BATCHLAB_METER_UNITS)."""
    out: dict[str, Any] = {"priced": settings.meter_units}
    for cls in CLASSES:
        out[cls] = {k: round(units[cls].get(k, 0.0), 3) for k in
                    ("writeReported", "writeComputed", "writeBilled",
                     "readReported", "readComputed", "readBilled")}
    return out


def design_model() -> dict[str, Any]:
    month_jobs_millions = DESIGN_JOBS_PER_SECOND * SECONDS_PER_MONTH / 1e6
    return {
        "name": "the design document's cost model (§11)",
        "jobsPerSecond": DESIGN_JOBS_PER_SECOND,
        "monthly": DESIGN_MONTHLY,
        "dollarsPerMillionJobs": {k: round(v / month_jobs_millions, 4) for k, v in DESIGN_MONTHLY.items()},
        "assumes": "1 SQS request per job (the send) and ~1.5 DynamoDB write units per job; "
                   "no SNS, no S3, no idle fleet",
    }
