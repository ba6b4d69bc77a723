"""AWS requests per job and $ per million jobs, unbatched vs batch submit.

    .venv/bin/python bench/cost.py [--jobs 400] [--events on|off]
    .venv/bin/python bench/cost.py --payload-kb 0.1,10,50,1024 [--jobs 40]

``--payload-kb``: cost against payload size. For each size, --jobs jobs with a payload
of that many KB, submitted one POST each (unbatched) then in POST /api/jobs:batch
requests (batched, as many per request as the 1 MiB batch body allows), each job read
once by GET /api/jobs/{id} when done (one status poll); prints per job the DynamoDB
write and read units (computed from item sizes, core.cost.capacity: what AWS bills), the S3
requests and $ per million jobs (requests that carry a job; the idle fleet apart), in
one table. Up to the inline body limit the jobs are sha256 over that much text (stored
inline, in a data item or in S3 by size: README "Data model"); above it, a CSV of that
size is uploaded with its presigned PUT and a csv-summary job names it (README "Large
inputs"), one upload per job.

Method: a private stack (moto, API, 2 workers), every process metering its own
AWS requests (core.cost.meter: botocore hooks on every client plus kombu's async SQS
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

from core.cost.costs import DESIGN_MONTHLY, dollars  # noqa: E402
from core.devstack import Stack, wait_for  # noqa: E402
from core.settings import settings  # noqa: E402

NOOP = {"type": "simulate", "payload": {"durationSeconds": 0}, "ownerId": "cost-bench"}
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")


def snapshot(http: httpx.Client) -> dict:
    return http.get("/api/cost", params={"window": 86_400}).json()


def totals(report: dict) -> dict:
    """A report's per-job class as totals: requests by call, billed units, jobs."""
    fixed = report["fixedRequests"]
    calls = {k: n - fixed.get(k, 0) for k, n in report["requests"].items()}
    units = report["capacityUnits"]["job"]
    return {"calls": calls, "jobs": report["jobsCreated"], "finished": report["jobsFinished"],
            "wru": units["writeBilled"], "rru": units["readBilled"]}


def settle(http: httpx.Client, ids: list[str], before: dict, created: int, polls: int = 0) -> dict:
    """Wait until the jobs are done and every process's meter has caught up."""
    def done() -> dict | None:
        r = snapshot(http)
        finished = r["jobsFinished"] - before["jobsFinished"]
        acks = r["requests"].get("sqs.DeleteMessage", 0) - before["requests"].get("sqs.DeleteMessage", 0)
        gets = r["requests"].get("dynamodb.GetItem", 0) - before["requests"].get("dynamodb.GetItem", 0)
        return r if finished >= created and acks >= created and gets >= polls and \
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
        "snsRequests": share(lambda k: k.startswith("sns.Publish")),  # and PublishBatch, as core.cost.costs
        "dynamodbWriteRequests": share(lambda k: k.startswith("dynamodb.") and k.split(".")[1] in WRITES),
        "dynamodbReadRequests": share(lambda k: k.startswith("dynamodb.") and k.split(".")[1] not in WRITES
                                      and not k.endswith(":meter")),
        "meterWrites": share(lambda k: k.endswith(":meter")),
        "requests": {k: round(v / jobs, 3) for k, v in sorted(delta.items())},
    }
    return out


# --- cost against payload size ------------------------------------------------------

BATCH_BODY_BUDGET = 900 * 1024  # under the 1 MiB batch body limit, with the JSON around it


def _job(i: int, payload_kb: float) -> dict:
    text = ("x" * max(1, round(payload_kb * 1024) - 8)) + f"{i:08d}"
    return {"name": f"p{i}", "type": "sha256", "payload": {"text": text}, "ownerId": "cost-bench"}


def _uploaded_job(http: httpx.Client, i: int, payload_kb: float) -> dict:
    """A csv-summary job over a CSV of ``payload_kb`` uploaded with its presigned PUT (the
    way a payload over the body limit travels): one upload per job, so its S3 PUT and the
    worker's GET count per job."""
    row = b"x,1\n"
    data = b"name,value\n" + row * max(1, round(payload_kb * 1024 / len(row)))
    plan = http.post("/api/uploads", json={"filename": f"p{i}.csv", "contentType": "text/csv",
                                           "size": len(data), "ownerId": "cost-bench"})
    plan.raise_for_status()
    body = plan.json()
    assert body["kind"] == "single", "keep bench sizes under the multipart threshold"
    httpx.put(body["url"], content=data, headers=body["headers"], timeout=60).raise_for_status()
    return {"name": f"p{i}", "type": "csv-summary", "payload": {"object": body["key"]},
            "ownerId": "cost-bench"}


def submit_jobs(http: httpx.Client, *, payload_kb: float, count: int, batched: bool) -> list[str]:
    """Submit ``count`` jobs with a payload of ``payload_kb``; their ids. A payload over
    the request body limit goes up to S3 first (presigned upload) and the job names it."""
    if payload_kb * 1024 + 512 > settings.max_body_bytes:
        jobs = [_uploaded_job(http, i, payload_kb) for i in range(count)]
    else:
        jobs = [_job(i, payload_kb) for i in range(count)]
    if not batched:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda j: http.post("/api/jobs", json=j).json()["id"], jobs))
    inline_kb = payload_kb if jobs[0]["type"] == "sha256" else 0.2
    per_request = max(1, min(100, int(BATCH_BODY_BUDGET // (inline_kb * 1024 + 200))))
    ids: list[str] = []
    for start in range(0, count, per_request):
        body = {"jobs": jobs[start:start + per_request]}
        ids += [r["job"]["id"] for r in http.post("/api/jobs:batch", json=body).json()["results"]]
    return ids


def measure(http: httpx.Client, *, payload_kb: float, count: int, batched: bool) -> dict:
    before = snapshot(http)
    ids = submit_jobs(http, payload_kb=payload_kb, count=count, batched=batched)
    for job_id in ids:  # one status poll each, once done
        wait_for(lambda j=job_id: http.get(f"/api/jobs/{j}").json()["status"] == "COMPLETED",
                 timeout=300, what=f"job {job_id}", every=0.2)
    after = settle(http, ids, before, len(ids), polls=len(ids))
    a, b = totals(after), totals(before)
    jobs = a["jobs"] - b["jobs"]
    calls = {k: n - b["calls"].get(k, 0) for k, n in a["calls"].items()}

    def per(pred) -> float:
        return sum(n for k, n in calls.items() if pred(k)) / jobs

    out = {
        "wru": round((a["wru"] - b["wru"]) / jobs, 2),
        "rru": round((a["rru"] - b["rru"]) / jobs, 2),
        "s3": round(per(lambda k: k.startswith("s3.")), 2),
        "sqsRequests": per(lambda k: k.startswith("sqs.")),
        "snsRequests": per(lambda k: k.startswith("sns.Publish")),
        "s3WriteRequests": per(lambda k: k.split(".")[-1] in ("PutObject", "UploadPart",
                                                              "CreateMultipartUpload",
                                                              "CompleteMultipartUpload",
                                                              "PutObject:presigned")),
        "s3ReadRequests": per(lambda k: k.split(".")[-1] in ("GetObject", "HeadObject")),
    }
    out["dollars"] = dollars({**out, "dynamodbWriteUnits": out["wru"],
                              "dynamodbReadUnits": out["rru"]})["total"]
    return out


def by_payload(sizes: list[float], count: int) -> int:
    env = {"BATCHLAB_METER_FLUSH_SECONDS": "1"}
    stack = Stack(Path(tempfile.mkdtemp(prefix="cost-")), extra_env=env)
    rows = []
    try:
        stack.start_moto()
        _, url = stack.start_api()
        stack.start_worker()
        stack.start_worker()
        http = httpx.Client(base_url=url, timeout=120)
        measure(http, payload_kb=0.1, count=10, batched=False)  # warm-up
        for kb in sizes:
            for batched in (False, True):
                rows.append((kb, "batched" if batched else "unbatched",
                             measure(http, payload_kb=kb, count=count, batched=batched)))
    finally:
        stack.stop_all()
    print(f"{'payload KB':>10} {'submit':>10} {'WRU/job':>8} {'RRU/job':>8} {'S3 req/job':>10} "
          f"{'$/M jobs':>9}")
    for kb, mode, r in rows:
        print(f"{kb:>10} {mode:>10} {r['wru']:>8} {r['rru']:>8} {r['s3']:>10} {r['dollars']:>9.2f}")
    print(json.dumps([{"payloadKb": kb, "submit": mode, **r} for kb, mode, r in rows]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--jobs", type=int, default=None, help="per phase (400; 40 per size)")
    parser.add_argument("--events", choices=("on", "off"), default="on")
    parser.add_argument("--payload-kb", default=None,
                        help="comma-separated payload sizes in KB, e.g. 0.1,10,50,1024")
    args = parser.parse_args()
    if args.payload_kb:
        return by_payload([float(x) for x in args.payload_kb.split(",")], args.jobs or 40)
    args.jobs = args.jobs or 400
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
        phases[name]["dollarsPerMillionJobs"] = dollars(
            {"sqsRequests": phases[name]["sqsRequests"], "snsRequests": phases[name]["snsRequests"],
             "dynamodbWriteUnits": units[name]["dynamodbWriteUnits"],
             "dynamodbReadUnits": units[name]["dynamodbReadUnits"]})
    month_m = 100 * 30 * 24 * 3600 / 1e6
    seed = {k: round(v / month_m, 4) for k, v in DESIGN_MONTHLY.items()}
    print(f"{'per job':28} {'unbatched':>10} {'batched':>10}")
    for key in ("sqsRequests", "snsRequests", "dynamodbWriteRequests", "dynamodbReadRequests",
                "dynamodbWriteUnits", "dynamodbReadUnits", "meterWrites"):
        print(f"{key:28} {phases['unbatched'][key]:>10} {phases['batched'][key]:>10}")
    print(f"{'$ per million jobs':28} {phases['unbatched']['dollarsPerMillionJobs']['total']:>10} "
          f"{phases['batched']['dollarsPerMillionJobs']['total']:>10}")
    print(f"design document's model $/M jobs: SQS {seed['sqs']} (batched {seed['sqsBatched']}), "
          f"DynamoDB writes {seed['dynamodbWrites']}, reads {seed['dynamodbReads']}")
    print(json.dumps({"events": args.events, "phases": phases, "idlePerWorkerPerMinute": idle,
                      "designDollarsPerMillionJobs": seed}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
