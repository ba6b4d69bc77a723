"""AWS requests per job and $ per million jobs, unbatched vs batch submit.

    .venv/bin/python bench/cost.py [--jobs 400] [--events on|off]

Method: a private stack (moto, API, 2 workers), every process metering its own
AWS requests (core.meter: botocore hooks on every client plus kombu's async SQS
client) and flushing them each second; GET /api/cost sums them. After a
warm-up, each phase submits --jobs no-op jobs (simulate, durationSeconds 0) and
waits for all of them to finish and for every meter to be flushed; the phase's
figures are the difference of two /api/cost snapshots divided by its jobs.
Phase A submits one POST per job (8 threads); phase B uses POST /api/jobs:batch
with 100 jobs per request. Prices: core.settings (SQS $0.40/M requests, SNS
$0.50/M publish requests (a PublishBatch of ≤ 64 KB is one), DynamoDB $0.625/M write units, $0.125/M read units).
Idle cost (long polls of waiting workers) is measured over 30 s without jobs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.costs import SEED_MONTHLY, price_per_million_jobs  # noqa: E402
from core.devstack import Stack, wait_for  # noqa: E402

NOOP = {"type": "simulate", "payload": {"durationSeconds": 0}, "ownerId": "cost-bench"}
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")


def snapshot(http: httpx.Client) -> dict:
    return http.get("/api/cost").json()


def settle(http: httpx.Client, ids: list[str], before: dict, created: int) -> dict:
    """Wait until the jobs are done and every process's meter has caught up."""
    def done() -> dict | None:
        r = snapshot(http)
        finished = r["jobsFinished"] - before["jobsFinished"]
        acks = r["requests"].get("sqs.DeleteMessage", 0) - before["requests"].get("sqs.DeleteMessage", 0)
        return r if finished >= created and acks >= created and \
            r["jobsCreated"] - before["jobsCreated"] >= created else None

    return wait_for(done, timeout=600, what="the phase's jobs and meters", every=0.5)


def per_job(before: dict, after: dict) -> dict:
    jobs = after["jobsCreated"] - before["jobsCreated"]
    delta = {k: after["requests"].get(k, 0) - before["requests"].get(k, 0)
             for k in set(after["requests"]) | set(before["requests"])}
    delta = {k: v for k, v in delta.items() if v}

    def share(pred) -> float:
        return round(sum(v for k, v in delta.items() if pred(k)) / jobs, 3)

    out = {
        "jobs": jobs,
        "sqsRequests": share(lambda k: k.startswith("sqs.")),
        "snsRequests": share(lambda k: k.startswith("sns.Publish")),  # and PublishBatch, as core.costs
        "dynamodbWriteRequests": share(lambda k: k.startswith("dynamodb.") and k.split(".")[1] in WRITES),
        "dynamodbReadRequests": share(lambda k: k.startswith("dynamodb.") and k.split(".")[1] not in WRITES
                                      and not k.endswith(":meter")),
        "meterWrites": share(lambda k: k.endswith(":meter")),
        "requests": {k: round(v / jobs, 3) for k, v in sorted(delta.items())},
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--events", choices=("on", "off"), default="on")
    args = parser.parse_args()
    env = {"BATCHLAB_METER_FLUSH_SECONDS": "1",
           "BATCHLAB_EVENTS_ENABLED": "true" if args.events == "on" else "false"}
    stack = Stack(Path(tempfile.mkdtemp(prefix="cost-")), extra_env=env)
    phases = {}
    try:
        stack.start_moto()
        _, url = stack.start_api()
        stack.start_worker()
        stack.start_worker()
        http = httpx.Client(base_url=url, timeout=60)

        def submit_one(i: int) -> str:
            return http.post("/api/jobs", json={"name": f"c{i}", **NOOP}).json()["id"]

        # warm-up: connections, queue URL lookups, event topics
        before = snapshot(http)
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(submit_one, range(20)))
        base = settle(http, ids, before, len(ids))

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(submit_one, range(args.jobs)))
        after_a = settle(http, ids, base, args.jobs)
        phases["unbatched"] = per_job(base, after_a)

        ids = []
        for start in range(0, args.jobs, 100):
            batch = [{"name": f"b{i}", **NOOP} for i in range(start, min(args.jobs, start + 100))]
            ids += [r["job"]["id"] for r in http.post("/api/jobs:batch", json={"jobs": batch}).json()["results"]]
        after_b = settle(http, ids, after_a, args.jobs)
        phases["batched"] = per_job(after_a, after_b)

        idle_before = snapshot(http)
        t0 = time.monotonic()
        wait_for(lambda: time.monotonic() - t0 >= 30, timeout=40, what="the idle window", every=1)
        idle_after = snapshot(http)
        idle_minutes = (time.monotonic() - t0) / 60
        idle = {k: round((idle_after["requests"].get(k, 0) - idle_before["requests"].get(k, 0))
                         / idle_minutes / 2, 2)
                for k in idle_after["requests"]
                if idle_after["requests"].get(k, 0) != idle_before["requests"].get(k, 0)}
    finally:
        stack.stop_all()

    units = {}
    for name, after, before in (("unbatched", after_a, base), ("batched", after_b, after_a)):
        jobs = phases[name]["jobs"]
        units[name] = {
            "dynamodbWriteUnits": round((after["perJob"]["dynamodbWriteUnits"] * after["jobsCreated"]
                                         - before["perJob"]["dynamodbWriteUnits"] * before["jobsCreated"]) / jobs, 3),
            "dynamodbReadUnits": round((after["perJob"]["dynamodbReadUnits"] * after["jobsCreated"]
                                        - before["perJob"]["dynamodbReadUnits"] * before["jobsCreated"]) / jobs, 3),
        }
        phases[name] |= units[name]
        phases[name]["dollarsPerMillionJobs"] = price_per_million_jobs(
            {"sqsRequests": phases[name]["sqsRequests"], "snsRequests": phases[name]["snsRequests"],
             "dynamodbWriteUnits": units[name]["dynamodbWriteUnits"],
             "dynamodbReadUnits": units[name]["dynamodbReadUnits"]})
    month_m = 100 * 30 * 24 * 3600 / 1e6
    seed = {k: round(v / month_m, 4) for k, v in SEED_MONTHLY.items()}
    print(f"{'per job':28} {'unbatched':>10} {'batched':>10}")
    for key in ("sqsRequests", "snsRequests", "dynamodbWriteRequests", "dynamodbReadRequests",
                "dynamodbWriteUnits", "dynamodbReadUnits", "meterWrites"):
        print(f"{key:28} {phases['unbatched'][key]:>10} {phases['batched'][key]:>10}")
    print(f"{'$ per million jobs':28} {phases['unbatched']['dollarsPerMillionJobs']['total']:>10} "
          f"{phases['batched']['dollarsPerMillionJobs']['total']:>10}")
    print(f"seed model $/M jobs: SQS {seed['sqs']} (batched {seed['sqsBatched']}), "
          f"DynamoDB writes {seed['dynamodbWrites']}, reads {seed['dynamodbReads']}")
    print(json.dumps({"events": args.events, "phases": phases, "idlePerWorkerPerMinute": idle,
                      "seedDollarsPerMillionJobs": seed}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
