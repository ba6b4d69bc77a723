"""Graceful shutdown: what SIGTERM does to the running job and to prefetched messages.

    .venv/bin/python bench/shutdown.py [--job-seconds 4] [--behind 5] [--grace 25]

Method: a private stack with two workers (REMAP_SIGTERM=SIGQUIT, as the Procfile
runs them). The first starts alone; submit one job of --job-seconds and then
--behind quick jobs, which it prefetches behind it (checked: none left visible
in SQS). Then the second worker starts, idle, and the first gets SIGTERM.
Measured: the time from SIGTERM until the second worker starts the first
prefetched job (issue 12, item 13: it used to wait for the first worker to exit,
a whole grace), until all of them are done, and until the first worker exits;
and whether the long job finished in its first attempt.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.aws import client  # noqa: E402
from core.devstack import Stack, wait_for  # noqa: E402
from core.queues import queue_urls  # noqa: E402
from core.settings import settings  # noqa: E402

VISIBILITY = 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--job-seconds", type=float, default=4)
    parser.add_argument("--behind", type=int, default=5)
    parser.add_argument("--grace", type=float, default=None,
                        help="BATCHLAB_SHUTDOWN_GRACE_SECONDS (default: the setting's default)")
    args = parser.parse_args()
    env = {"BATCHLAB_VISIBILITY_TIMEOUT": str(VISIBILITY)}
    if args.grace is not None:
        env["BATCHLAB_SHUTDOWN_GRACE_SECONDS"] = str(args.grace)
    stack = Stack(Path(tempfile.mkdtemp(prefix="shutdown-")), extra_env=env)
    # This process reads the queue too: point boto3 (core.aws) at the stack's moto.
    os.environ.update({k: v for k, v in stack.env.items() if k.startswith("AWS_")})
    try:
        stack.start_moto()
        _, url = stack.start_api()
        http = httpx.Client(base_url=url, timeout=30)
        worker = stack.start_worker()
        sqs = client("sqs")

        def post(payload: dict) -> str:
            return http.post("/api/jobs", json={"name": "s", "type": "simulate", "ownerId": "sd",
                                                "payload": payload}).json()["id"]

        def status(job_id: str) -> dict:
            return http.get(f"/api/jobs/{job_id}").json()

        def in_flight() -> tuple[int, int]:
            attrs = sqs.get_queue_attributes(
                QueueUrl=queue_urls().jobs,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            return (int(attrs["ApproximateNumberOfMessages"]),
                    int(attrs["ApproximateNumberOfMessagesNotVisible"]))

        long_id = post({"durationSeconds": args.job_seconds, "steps": 1})
        behind = [post({"durationSeconds": 0}) for _ in range(args.behind)]
        wait_for(lambda: status(long_id)["status"] == "PROCESSING", timeout=60, what="the long job")
        wait_for(lambda: in_flight() == (0, args.behind + 1), timeout=60,
                 what="the first worker to prefetch every job")
        stack.start_worker()  # idle: everything is in the first worker's buffer
        t0 = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        first_start = wait_for(
            lambda: next((time.monotonic() for j in behind if status(j)["status"] != "QUEUED"), None),
            timeout=VISIBILITY + 60, what="a prefetched job to start", every=0.02,
        )
        for job_id in behind:
            wait_for(lambda j=job_id: status(j)["status"] == "COMPLETED", timeout=VISIBILITY + 60,
                     what="a prefetched job")
        all_done = time.monotonic()
        worker.proc.wait(timeout=300)
        exit_seconds = time.monotonic() - t0
        long_job = wait_for(lambda: (j := status(long_id))["status"] in ("COMPLETED", "FAILED") and j,
                            timeout=VISIBILITY + 60, what="the long job to finish")
        attempts_behind = sorted({status(j)["attempts"] for j in behind})
    finally:
        stack.stop_all()
    result = {
        "secondsFromSigtermToAPrefetchedJobStartingElsewhere": round(first_start - t0, 2),
        "secondsFromSigtermToAllPrefetchedDone": round(all_done - t0, 2),
        "workerExitSecondsAfterSigterm": round(exit_seconds, 2),
        "longJob": {"seconds": args.job_seconds, "status": long_job["status"],
                    "attempts": long_job["attempts"]},
        "prefetchedJobs": args.behind,
        "prefetchedAttempts": attempts_behind,
        "graceSeconds": args.grace if args.grace is not None else settings.shutdown_grace_seconds,
        "visibilityTimeoutSeconds": VISIBILITY,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
