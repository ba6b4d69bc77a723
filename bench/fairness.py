"""Fairness of batches (issue 14): single jobs' queue waits during a big batch vs idle.

    .venv/bin/python bench/fairness.py [--items 5000] [--jobs 20]

A private stack (moto, API, 2 workers, default settings: the batch window is
BATCHLAB_BATCH_WINDOW, 20). Phase "idle": --jobs single jobs from owner "bob"
(sha256), one every 0.25 s; each one's queue wait is StartedAt - CreatedAt from its
own item (the worker's start write). Phase "batch": owner "alice" uploads a JSON Lines
file of --items no-op items (simulate, durationSeconds 0.05) through the presigned flow
and submits it as a batch; once its children are running, bob's --jobs single jobs are
submitted the same way and measured the same way. The batch is then cancelled. Prints
p50/p95 of both and the target check: p95 during the batch <= 2 s + 2 x idle p95.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import percentile  # noqa: E402

from core.devstack import Stack, wait_for  # noqa: E402

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def single_jobs(http: httpx.Client, count: int) -> list[float]:
    ids = []
    for i in range(count):
        resp = http.post("/api/jobs", json={"name": f"probe {i}", "type": "sha256",
                                            "payload": {"text": f"probe {i}"}, "ownerId": "bob"})
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()["id"])
        time.sleep(0.25)  # a trickle of jobs, not a burst (pacing, not synchronisation)
    waits = []
    for job_id in ids:
        job = wait_for(lambda j=job_id: (x := http.get(f"/api/jobs/{j}").json())["status"] in TERMINAL
                       and x, timeout=300, what=f"job {job_id}", every=0.2)
        waits.append(_t(job["startedAt"]) - _t(job["createdAt"]))
    return waits


def upload_items(http: httpx.Client, items: int) -> str:
    data = "".join(json.dumps({"durationSeconds": 0.05}) + "\n" for _ in range(items)).encode()
    plan = http.post("/api/uploads", json={"filename": "items.jsonl", "size": len(data),
                                           "contentType": "application/x-ndjson",
                                           "ownerId": "alice"}).json()
    assert httpx.put(plan["url"], content=data, headers=plan["headers"], timeout=120).status_code == 200
    return plan["key"]


def summary(waits: list[float]) -> dict:
    return {"p50": round(percentile(waits, 50), 3), "p95": round(percentile(waits, 95), 3),
            "max": round(max(waits), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="fairness-")))
    try:
        stack.start_moto()
        _, url = stack.start_api()
        stack.start_worker()
        stack.start_worker()
        with httpx.Client(base_url=url, timeout=60) as http:
            single_jobs(http, 3)  # warm-up
            idle = single_jobs(http, args.jobs)
            key = upload_items(http, args.items)
            batch = http.post("/api/batches", json={"name": "big", "type": "simulate",
                                                    "ownerId": "alice", "object": key}).json()
            wait_for(lambda: http.get(f"/api/batches/{batch['id']}").json()["counts"]["COMPLETED"] > 50,
                     timeout=300, what="the batch to be running")
            during = single_jobs(http, args.jobs)
            state = http.get(f"/api/batches/{batch['id']}").json()
            http.post(f"/api/batches/{batch['id']}/cancel")
        idle_s, during_s = summary(idle), summary(during)
        target = 2 + 2 * idle_s["p95"]
        print(json.dumps({"items": args.items, "jobs": args.jobs, "idle": idle_s,
                          "duringBatch": during_s, "batchProgressAtEnd": state["counts"],
                          "targetP95": round(target, 3),
                          "met": during_s["p95"] <= target}, indent=2))
        print(f"queue wait of single jobs   idle: p50 {idle_s['p50']} s  p95 {idle_s['p95']} s")
        print(f"during a {args.items}-item batch: p50 {during_s['p50']} s  p95 {during_s['p95']} s"
              f"  (target p95 <= 2 + 2 x idle p95 = {target:.2f} s: "
              f"{'met' if during_s['p95'] <= target else 'NOT met'})")
    finally:
        stack.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
