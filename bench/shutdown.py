"""Graceful shutdown: what SIGTERM does to the running job and to prefetched messages.

    .venv/bin/python bench/shutdown.py [--job-seconds 4] [--behind 5]

Method: a private stack with one worker (REMAP_SIGTERM=SIGQUIT, as the Procfile
runs it). Submit one job of --job-seconds and then --behind quick jobs, which
the worker prefetches behind it. Once the long job is PROCESSING, send SIGTERM
and measure: how long the worker takes to exit, whether the long job finished
in its first attempt, and — with a second worker started right after — how long
the prefetched jobs take to complete, compared with the queue's visibility
timeout (which is what they would wait if they were not given back).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devstack import Stack, wait_for  # noqa: E402

VISIBILITY = 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--job-seconds", type=float, default=4)
    parser.add_argument("--behind", type=int, default=5)
    args = parser.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="shutdown-")),
                  extra_env={"BATCHLAB_VISIBILITY_TIMEOUT": str(VISIBILITY)})
    try:
        stack.start_moto()
        _, url = stack.start_api()
        http = httpx.Client(base_url=url, timeout=30)
        worker = stack.start_worker()

        def post(payload: dict) -> str:
            return http.post("/api/jobs", json={"name": "s", "type": "simulate", "ownerId": "sd",
                                                "payload": payload}).json()["id"]

        def status(job_id: str) -> dict:
            return http.get(f"/api/jobs/{job_id}").json()

        long_id = post({"durationSeconds": args.job_seconds, "steps": 1})
        behind = [post({"durationSeconds": 0}) for _ in range(args.behind)]
        wait_for(lambda: status(long_id)["status"] == "PROCESSING", timeout=60, what="the long job")
        t0 = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(timeout=120)
        exit_seconds = time.monotonic() - t0
        long_job = status(long_id)
        ran_before_exit = sum(1 for j in behind if status(j)["status"] == "COMPLETED")
        t1 = time.monotonic()
        stack.start_worker()
        for job_id in behind:
            wait_for(lambda j=job_id: status(j)["status"] == "COMPLETED", timeout=VISIBILITY + 60,
                     what="a prefetched job")
        redelivery_seconds = time.monotonic() - t1
    finally:
        stack.stop_all()
    result = {
        "workerExitSecondsAfterSigterm": round(exit_seconds, 2),
        "longJob": {"status": long_job["status"], "attempts": long_job["attempts"]},
        "prefetchedJobs": args.behind,
        "prefetchedRunBeforeExit": ran_before_exit,
        "secondsForPrefetchedToCompleteOnANewWorker": round(redelivery_seconds, 2),
        "visibilityTimeoutSeconds": VISIBILITY,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
