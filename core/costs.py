"""Requests per job and $ per million jobs, across every API and worker process.

Each process counts its own AWS requests (core.meter) and, every
``meter_flush_seconds``, writes a cumulative snapshot to the meters table (one
item per process, expiring after a day). ``report()`` sums the snapshots.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from core.aws import client
from core.job import _Camel
from core.meter import meter
from core.settings import settings

log = logging.getLogger("batchlab.costs")

SEED_JOBS_PER_SECOND = 100
SECONDS_PER_MONTH = 30 * 24 * 3600
# The seed's §11 model, monthly at 100 jobs/s (259.2 M jobs), and per million jobs.
SEED_MONTHLY = {"sqs": 103.0, "sqsBatched": 10.0, "dynamodbWrites": 246.38, "dynamodbReads": 4.93}


class CostReport(_Camel):
    processes: int
    jobs_created: int
    jobs_finished: int
    requests: dict[str, int]
    per_job: dict[str, float | None]
    dollars_per_million_jobs: dict[str, float | None]
    monthly_at_seed_rate: dict[str, float | None]
    seed_model: dict[str, Any] = Field(default_factory=dict)
    prices: dict[str, float]


_flushers: dict[int, threading.Thread] = {}


def _process_id(role: str) -> str:
    return f"{role}:{socket.gethostname()}:{os.getpid()}"


def flush(role: str) -> None:
    snap = meter().snapshot()
    client("dynamodb").put_item(
        TableName=settings.meters_table_name,
        Item={
            "Process": {"S": _process_id(role)},
            "Role": {"S": role},
            "UpdatedAt": {"N": str(int(time.time()))},
            "Snapshot": {"S": json.dumps(snap)},
            "ExpiresAt": {"N": str(int(time.time()) + 24 * 3600)},
        },
    )


def start_flusher(role: str) -> None:
    """Write this process's meter snapshot periodically (once per process)."""
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


def _sum_snapshots() -> tuple[int, dict[str, int], float, float, dict[str, int]]:
    requests: dict[str, int] = {}
    jobs: dict[str, int] = {}
    read_units = write_units = 0.0
    processes = 0
    params: dict[str, Any] = {"TableName": settings.meters_table_name}
    while True:
        page = client("dynamodb").scan(**params)
        for item in page.get("Items", []):
            snap = json.loads(item["Snapshot"]["S"])
            processes += 1
            for key, n in snap["requests"].items():
                requests[key] = requests.get(key, 0) + n
            for key, n in snap.get("jobs", {}).items():
                jobs[key] = jobs.get(key, 0) + n
            read_units += snap["readUnits"]
            write_units += snap["writeUnits"]
        params["ExclusiveStartKey"] = page.get("LastEvaluatedKey")
        if not params["ExclusiveStartKey"]:
            return processes, requests, read_units, write_units, jobs


def prices() -> dict[str, float]:
    return {
        "sqsPerMillionRequests": settings.price_sqs_per_million,
        "snsPerMillionPublishes": settings.price_sns_per_million,
        "dynamodbPerMillionWriteUnits": settings.price_dynamodb_write_per_million,
        "dynamodbPerMillionReadUnits": settings.price_dynamodb_read_per_million,
    }


def price_per_million_jobs(per_job: dict[str, float | None]) -> dict[str, float | None]:
    if per_job["sqsRequests"] is None:
        return {"sqs": None, "sns": None, "dynamodbWrites": None, "dynamodbReads": None, "total": None}
    out = {
        "sqs": per_job["sqsRequests"] * settings.price_sqs_per_million,
        "sns": per_job["snsRequests"] * settings.price_sns_per_million,
        "dynamodbWrites": per_job["dynamodbWriteUnits"] * settings.price_dynamodb_write_per_million,
        "dynamodbReads": per_job["dynamodbReadUnits"] * settings.price_dynamodb_read_per_million,
    }
    out["total"] = sum(out.values())
    return {k: round(v, 4) for k, v in out.items()}


def report() -> CostReport:
    processes, requests, read_units, write_units, jobs = _sum_snapshots()
    created = jobs.get("created", 0)

    def per_job(value: float) -> float | None:
        return round(value / created, 4) if created else None

    def total(prefix: str, *, meter_too: bool = False) -> int:
        return sum(
            n for k, n in requests.items()
            if k.startswith(prefix) and (meter_too or not k.endswith(":meter"))
        )

    pj = {
        "sqsRequests": per_job(total("sqs.")),
        # Publish and PublishBatch (≤ 10 events, well under 64 KB: billed as one request).
        "snsRequests": per_job(total("sns.Publish")),
        "dynamodbRequests": per_job(total("dynamodb.")),
        "dynamodbWriteRequests": per_job(
            sum(n for k, n in requests.items() if k.split(".")[-1] in
                ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"))
        ),
        "dynamodbWriteUnits": per_job(write_units),
        "dynamodbReadUnits": per_job(read_units),
        "meterWrites": per_job(total("dynamodb.PutItem:meter", meter_too=True)),
    }
    dollars = price_per_million_jobs(pj)
    month_jobs_millions = SEED_JOBS_PER_SECOND * SECONDS_PER_MONTH / 1e6
    monthly = {k: (round(v * month_jobs_millions, 2) if v is not None else None) for k, v in dollars.items()}
    seed_per_million = {k: round(v / month_jobs_millions, 4) for k, v in SEED_MONTHLY.items()}
    return CostReport(
        processes=processes,
        jobs_created=created,
        jobs_finished=jobs.get("finished", 0),
        requests=dict(sorted(requests.items())),
        per_job=pj,
        dollars_per_million_jobs=dollars,
        monthly_at_seed_rate=monthly,
        seed_model={
            "jobsPerSecond": SEED_JOBS_PER_SECOND,
            "monthly": SEED_MONTHLY,
            "dollarsPerMillionJobs": seed_per_million,
            "assumes": "1 SQS request per job (the send), DynamoDB writes per the seed's estimate",
        },
        prices=prices(),
    )
