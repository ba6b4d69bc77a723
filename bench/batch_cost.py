"""What a batch's child costs in AWS requests and capacity units (issue 14), beside a
job submitted through POST /api/jobs:batch, as the meter counts them.

    .venv/bin/python bench/batch_cost.py [--items 1000]

Method (as bench/cost.py): a private stack (moto, API, 2 workers), every process
metering its AWS requests and flushing each second; GET /api/cost sums them. Phase A
submits --items no-op jobs (simulate, durationSeconds 0) through POST /api/jobs:batch
(100 per request); phase B one inline batch of --items no-op items. Each phase waits
until every job/child finished and every meter caught up; its figures are the
difference of two /api/cost snapshots (per-job class) divided by its jobs. DynamoDB
units are computed from item sizes (core.cost.capacity: what AWS bills).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devstack import Stack, wait_for  # noqa: E402
from core.settings import settings  # noqa: E402

NOOP = {"durationSeconds": 0}


def snapshot(http: httpx.Client) -> dict:
    return http.get("/api/cost", params={"window": 86_400}).json()


def delta(before: dict, after: dict, n: int) -> dict:
    calls = {}
    for k in set(after["requests"]) | set(before["requests"]):
        job_now = after["requests"].get(k, 0) - after["fixedRequests"].get(k, 0)
        job_then = before["requests"].get(k, 0) - before["fixedRequests"].get(k, 0)
        if job_now - job_then:
            calls[k] = round((job_now - job_then) / n, 3)
    units_a, units_b = after["capacityUnits"]["job"], before["capacityUnits"]["job"]
    wru = (units_a["writeBilled"] - units_b["writeBilled"]) / n
    rru = (units_a["readBilled"] - units_b["readBilled"]) / n
    sqs = sum(v for k, v in calls.items() if k.startswith("sqs."))
    sns = sum(v for k, v in calls.items() if k.startswith("sns."))
    s3 = sum(v for k, v in calls.items() if k.startswith("s3."))
    dollars = (sqs * settings.price_sqs_per_million + sns * settings.price_sns_per_million
               + wru * settings.price_dynamodb_write_per_million
               + rru * settings.price_dynamodb_read_per_million + s3 * settings.price_s3_write_per_million)
    return {"sqsRequests": round(sqs, 3), "snsRequests": round(sns, 3), "s3Requests": round(s3, 3),
            "wru": round(wru, 3), "rru": round(rru, 3), "dollarsPerMillion": round(dollars, 3),
            "calls": dict(sorted(calls.items()))}


def settle(http: httpx.Client, before: dict, n: int) -> dict:
    def done() -> dict | None:
        r = snapshot(http)
        acks = r["requests"].get("sqs.DeleteMessage", 0) - before["requests"].get("sqs.DeleteMessage", 0)
        finished = r["jobsFinished"] - before["jobsFinished"]
        return r if finished >= n and acks >= n else None

    return wait_for(done, timeout=1800, what="the phase's jobs and meters", every=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    n = args.items
    env = {"BATCHLAB_METER_FLUSH_SECONDS": "1", "BATCHLAB_STATS_CACHE_SECONDS": "0"}
    stack = Stack(Path(tempfile.mkdtemp(prefix="batch-cost-")), extra_env=env)
    try:
        stack.start_moto()
        _, url = stack.start_api()
        stack.start_worker()
        stack.start_worker()
        with httpx.Client(base_url=url, timeout=60) as http:
            # Phase A: single jobs, 100 per POST /api/jobs:batch.
            before = snapshot(http)
            for start in range(0, n, 100):
                jobs = [{"name": f"j{i}", "type": "simulate", "payload": NOOP, "ownerId": "cost"}
                        for i in range(start, min(n, start + 100))]
                assert http.post("/api/jobs:batch", json={"jobs": jobs}).status_code == 202
            jobs_a = delta(before, settle(http, before, n), n)
            # Phase B: one batch of n items (its bookkeeping included: ingestion, groups,
            # sweeps, finish with the results file).
            before = snapshot(http)
            batch = http.post("/api/batches", json={"name": "cost", "type": "simulate",
                                                    "ownerId": "cost", "items": [NOOP] * n})
            assert batch.status_code == 202, batch.text
            batch_id = batch.json()["id"]
            wait_for(lambda: http.get(f"/api/batches/{batch_id}").json()["resultsUrl"],
                     timeout=1800, what="the batch to end", every=1)
            children = delta(before, settle(http, before, n), n)
        print(json.dumps({"items": n, "jobsBatchSubmit": jobs_a, "batchChild": children}, indent=2))
        for name, row in (("POST /api/jobs:batch job", jobs_a), ("batch child", children)):
            print(f"{name:26} SQS {row['sqsRequests']:5}  SNS {row['snsRequests']:5}  "
                  f"WRU {row['wru']:5}  RRU {row['rru']:5}  S3 {row['s3Requests']:5}  "
                  f"$/M {row['dollarsPerMillion']}")
    finally:
        stack.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
