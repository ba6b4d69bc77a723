"""What the AWS requests of an idle deployment cost per hour (README "Deploy to AWS").

    .venv/bin/python bench/idle_cost.py [--workers 0,1] [--window 180]

For each worker count: a private stack (moto, the API, that many workers, Flower, as the
CloudFormation template runs them with default settings: 20 s long polls, events on),
left idle for a minute of warm-up (the start-up calls: queue and topic creation,
subscriptions), then for --window seconds; GET /api/cost?window= then reports the
fixed class (README "Observability": requests that carry no job) in $ per hour at the
settings' prices, by service, and the requests per hour by call. The template's
default (WorkerMinCount 0) is the first line; each worker kept running adds the
difference. The hourly prices of the load balancer and the Fargate tasks are in the README.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx
from benchlib import Stack, print_json, print_table

ADMIN = {"bench-operator": "bench"}
WARM_UP_SECONDS = 70  # past the minute in which the processes started


def measure(*, workers: int, window: int) -> dict:
    stack = Stack(Path(tempfile.mkdtemp(prefix="idle-cost-")),
                  extra_env={"BATCHLAB_ADMIN_KEYS": json.dumps(ADMIN)})
    try:
        stack.start_moto()
        _, url = stack.start_api()
        for _ in range(workers):
            stack.start_worker()
        stack.start_flower()
        # A measurement window, not synchronisation: the fleet is meant to sit idle.
        time.sleep(WARM_UP_SECONDS + window)
        report = httpx.get(f"{url}/api/cost", params={"window": window},
                           headers={"X-API-Key": next(iter(ADMIN))}, timeout=30).json()
    finally:
        stack.stop_all()
    hours = report["coveredSeconds"] / 3600
    return {
        "workers": workers,
        "coveredSeconds": report["coveredSeconds"],
        "roles": report["roles"],
        "dollarsPerHour": report["fixedDollarsPerHour"],
        "requestsPerHour": {k: round(v / hours) for k, v in report["fixedRequests"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="0,1", help="worker counts, comma-separated")
    parser.add_argument("--window", type=int, default=180, help="seconds measured (≥ 60)")
    args = parser.parse_args()
    results = [measure(workers=int(n), window=max(60, args.window))
               for n in args.workers.split(",")]
    print_table(
        "idle fleet: AWS requests of the fixed class, $ per hour",
        ["workers", "sqs", "sns", "s3", "dynamodb writes", "total"],
        [[r["workers"], *(f"{r['dollarsPerHour'][k]:.5f}" for k in
                          ("sqs", "sns", "s3", "dynamodbWrites", "total"))] for r in results],
    )
    print_json({"results": results})


if __name__ == "__main__":
    main()
