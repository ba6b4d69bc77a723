"""Create benchmark: POST /api/jobs against the same backend calls made directly with boto3.

    .venv/bin/python bench/create.py [--concurrency 1,4,16] [--rounds 9] [--seconds 3]
                                     [--events on|off|both]

Method. One private moto stack (SQS+SNS and DynamoDB, two processes) and an API
process on it with the default settings (``api``); with ``--events both`` a second
one with BATCHLAB_EVENTS_ENABLED=false (``api-noevents``) too. (The API sends no
Celery event since the task-sent event went, so the two should measure the same.)
No worker runs.

For each concurrency C, the variants run as closed loops of C threads for
``--seconds`` each (bounded by ``--max-ops``), interleaved round by round with the
order rotated every round (A B R, B R A, R A B, ...). The C threads are spread over
``--procs`` load processes (default 2): one Python process of 16 boto3 threads
saturates its GIL before moto does, which would understate the raw rate.

* ``api*``: each thread has its own keep-alive client (``benchlib.Http``: a socket and httptools,
  kept across rounds; the lightest client, so the rate measures the server) and POSTs a
  sha256 job with a small payload; a request counts if it answered 202.
* ``raw``: each thread has its own boto3 DynamoDB and SQS clients and, per job,
  makes the calls the API makes: PutItem of an item of the same shape with
  ConditionExpression=attribute_not_exists(JobId) and ReturnConsumedCapacity=TOTAL
  (the API's request meter asks for it), then SendMessage to the jobs
  queue with the body of a real Celery message captured from the API.

moto slows down as a queue deepens, so a background thread purges the jobs queue
every ``--purge-every`` seconds during every round of every variant (moto started
with MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false), keeping it shallow.

Reported per concurrency and variant: throughput (req/s) and p50/p95/p99 latency as
the median over rounds; the ratio api/raw as the median of the per-round ratios
(each from two adjacent measurements) with that median's 95% confidence interval
(``benchlib.paired_ratio``: "meets" is yes only if the whole interval clears the target,
"line" if it straddles it); CPU% of the API, both motos and this
load processes together (100% = one core) during the variant's rounds. Target: api ≥ 0.8 × raw.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402

ENV = {"MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"}
BODY = {"name": "bench", "type": "sha256", "payload": {"text": "hello world"}, "ownerId": "bench"}
TARGET = 0.8


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def job_item(job_id: str) -> dict:
    """The item core.jobs.store.put_job writes for BODY, marshalled by hand (no core.jobs.store import:
    it would hook boto3 with the product's request meter)."""
    created = now_iso()
    return {
        "JobId": {"S": job_id},
        "OwnerId": {"S": BODY["ownerId"]},
        "Name": {"S": BODY["name"]},
        "Type": {"S": BODY["type"]},
        "Payload": {"S": '{"text":"hello world"}'},
        "Status": {"S": "QUEUED"},
        "CreatedAt": {"S": created},
        "Attempts": {"N": "0"},
        "MaxAttempts": {"N": "3"},
        "Progress": {"N": "0"},
        "History": {"L": [{"M": {"Status": {"S": "QUEUED"}, "At": {"S": created}}}]},
        "ExpiresAt": {"N": str(int(time.time() + 6 * 3600))},
    }


def api_factory(url: str):
    """In a load process: per thread a keep-alive client POSTing BODY (202 expected)."""
    body = json.dumps(BODY).encode()

    def make(_: int):
        http = bl.Http(url)

        def op(_: int) -> None:
            resp = http.post_json("/api/jobs", body)
            if resp.status != 202:
                raise RuntimeError(f"HTTP {resp.status}: {resp.data[:200]!r}")

        return op

    return make


def raw_factory(env: dict[str, str], queue_url: str, template: str):
    """In a load process: per thread its own boto3 clients making the API's two calls."""

    def make(_: int):
        ddb = bl.aws(env, "dynamodb")
        sqs = bl.aws(env, "sqs")

        def op(_: int) -> None:
            ddb.put_item(
                TableName=bl.TABLE,
                Item=job_item(str(uuid.uuid4())),
                ConditionExpression="attribute_not_exists(JobId)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ReturnConsumedCapacity="TOTAL",  # the API's meter asks for it (core.cost.meter)
            )
            sqs.send_message(QueueUrl=queue_url, MessageBody=template)

        return op

    return make


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated thread counts")
    parser.add_argument("--rounds", type=int, default=9, help="rounds per variant and concurrency")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one round")
    parser.add_argument("--max-ops", type=int, default=5000, help="cap on requests per round")
    parser.add_argument(
        "--events",
        choices=("both", "on", "off"),
        default="on",
        help="API variants: default settings (events on), events off, or both",
    )
    parser.add_argument("--purge-every", type=float, default=0.5, help="queue purge period (s)")
    parser.add_argument("--procs", type=int, default=2, help="load-generator processes")
    args = parser.parse_args()
    git_at_start = bl.git_state()  # others commit concurrently: record what was measured
    levels = [int(x) for x in args.concurrency.split(",")]

    stack = bl.Stack(Path(tempfile.mkdtemp(prefix="bench-create-")), extra_env=ENV)
    results: dict[int, dict[str, list]] = {}
    cpu: dict[int, dict[str, list[dict[str, float]]]] = {}
    started_at = time.monotonic()
    pool = None
    print(f"logs: {stack.log_dir}", flush=True)
    try:
        stack.start_moto()
        apis: dict[str, str] = {}
        pids: dict[str, int] = {}
        if args.events in ("both", "on"):
            service, apis["api"] = stack.start_api()
            pids["api"] = service.pid
        if args.events in ("both", "off"):
            service, apis["api-noevents"] = stack.start_api({"BATCHLAB_EVENTS_ENABLED": "false"})
            pids["api-noevents"] = service.pid
        sqs = bl.aws(stack, "sqs")
        queue_url = sqs.get_queue_url(QueueName=bl.QUEUE)["QueueUrl"]

        # A real Celery message, so the raw SendMessage carries the same bytes.
        first_url = next(iter(apis.values()))
        httpx.post(f"{first_url}/api/jobs", json=BODY, timeout=30).raise_for_status()
        template = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=5
        )["Messages"][0]["Body"]
        sqs.purge_queue(QueueUrl=queue_url)

        factories = {name: (api_factory, (url,)) for name, url in apis.items()}
        factories["raw"] = (raw_factory, (dict(stack.env), queue_url, template))
        names = list(factories)
        pool = bl.LoadPool(args.procs, factories)
        all_pids = {
            **pids,
            **{k: v for k, v in bl.stack_pids(stack).items() if k.startswith("moto")},
            "loadgen": pool.pids,
        }

        stop_purge = threading.Event()
        bl.purger(sqs, queue_url, args.purge_every, stop_purge)
        try:
            for c in levels:
                results[c] = {n: [] for n in names}
                cpu[c] = {n: [] for n in names}
                for name in names:  # warm-up: clients, connections, thread pools
                    pool.run(name, concurrency=c, seconds=1.0, max_ops=200)
                for r in range(args.rounds):
                    order = names[r % len(names) :] + names[: r % len(names)]
                    for name in order:
                        sampler = bl.CpuSampler(all_pids).start()
                        res = pool.run(
                            name, concurrency=c, seconds=args.seconds, max_ops=args.max_ops
                        )
                        cpu[c][name].append(sampler.stop())
                        results[c][name].append(res)
                        print(
                            f"c={c:<3} round {r + 1}/{args.rounds} {name:<13} "
                            f"{res.rate:7.1f} req/s"
                            f"  p50 {1000 * bl.percentile(res.latencies, 50):6.1f} ms"
                            f"  errors {res.errors}",
                            flush=True,
                        )
                        for sample in res.error_samples[:1]:
                            print(f"    error: {sample}", flush=True)
        finally:
            stop_purge.set()
    finally:
        if pool is not None:
            pool.close()
        stack.stop_all()

    headers = ["conc", "variant", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]
    rows, ratio_rows = [], []
    summary: dict = {
        "benchmark": "create",
        "machine": bl.machine(),
        "git": {"atStart": git_at_start, "atEnd": bl.git_state()},
        "method": {
            "rounds": args.rounds,
            "secondsPerRound": args.seconds,
            "purgeEverySeconds": args.purge_every,
            "loadProcesses": args.procs,
            "statistic": "median over rounds",
        },
        "target": f"api >= {TARGET} x raw",
        "results": {},
    }
    for c in levels:
        entry, level_rows, level_ratios = bl.summarise_level(c, results[c], cpu[c], TARGET)
        rows += level_rows
        ratio_rows += level_ratios
        summary["results"][str(c)] = entry
    summary["seconds"] = round(time.monotonic() - started_at, 1)

    bl.print_table(
        "POST /api/jobs vs raw PutItem+SendMessage (medians over rounds; CPU% 100 = one core)",
        [*headers, *(f"cpu% {p}" for p in all_pids)],
        rows,
    )
    bl.print_table(
        f"Ratio to raw (median of per-round ratios; target >= {TARGET})",
        bl.RATIO_HEADERS,
        ratio_rows,
    )
    bl.print_json(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
