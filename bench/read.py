"""Read benchmark: GET /api/jobs/{id} against a raw DynamoDB GetItem of the same keys.

    .venv/bin/python bench/read.py [--concurrency 1,4,16] [--rounds 9] [--seconds 3]
                                   [--jobs 500] [--floor]

Method. One private moto stack and one API process with the default settings; no
worker runs. ``--jobs`` jobs (type sha256, small payload) are created through the
API beforehand and the jobs queue is purged. For each concurrency C the
variants run as closed loops of C threads (spread over ``--procs`` load
processes) for ``--seconds`` each, interleaved round by round, the order rotated
every round (A R, R A, ... or A B C R, B C R A, ...):

* ``api``: per thread a keep-alive client (``benchlib.Http``: a socket and httptools, the lightest
  client, so the rate measures the server); GET /api/jobs/{id} of a random id of the
  set; counts if it answered 200.
* ``raw``: per thread a boto3 DynamoDB client; the API's call: GetItem (eventually
  consistent, with ReturnConsumedCapacity=TOTAL as the API's request meter asks) of a
  random id of the same set; counts if the item came back.
* with ``--floor``, three references from ``bench/floor_app.py``, with the same client:
  ``floor-thread`` and ``floor-loop``, the smallest FastAPI app making raw's call in a sync
  route (FastAPI's thread pool, as the API) and on the event loop (no thread hop; one
  request at a time); ``floor-asgi``, a plain ASGI callable (no framework) making it in a
  thread pool. They split the API's gap to raw into what uvicorn and the HTTP round trip,
  FastAPI, and the thread hop cost by themselves and what BatchLab's own code adds.

Reported per concurrency and variant: throughput (req/s), p50/p95/p99 latency
(medians over rounds), each variant's ratio to raw (median of per-round ratios, with its
95% confidence interval and verdict as in ``bench/create.py``) and CPU% (100 = one core)
of the API, the reference apps, moto-dynamodb and the load processes. Target: api ≥ 0.8 × raw.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import benchlib as bl  # noqa: E402

BODY = {"name": "bench", "type": "sha256", "payload": {"text": "hello world"}, "ownerId": "bench"}
TARGET = 0.8


def api_factory(url: str, prefix: str, ids: list[str]):
    def make(index: int):
        http = bl.Http(url)
        rnd = random.Random(index)

        def op(_: int) -> None:
            resp = http.get(f"{prefix}{rnd.choice(ids)}")
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {resp.data[:200]!r}")

        return op

    return make


def raw_factory(env: dict[str, str], ids: list[str]):
    def make(index: int):
        ddb = bl.aws(env, "dynamodb")
        rnd = random.Random(index)

        def op(_: int) -> None:
            resp = ddb.get_item(
                TableName=bl.TABLE,
                Key={"JobId": {"S": rnd.choice(ids)}},
                ConsistentRead=False,
                ReturnConsumedCapacity="TOTAL",  # the API's meter asks for it (core.cost.meter)
            )
            if "Item" not in resp:
                raise RuntimeError("item not found")

        return op

    return make


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated thread counts")
    parser.add_argument("--rounds", type=int, default=9, help="rounds per variant and concurrency")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one round")
    parser.add_argument("--max-ops", type=int, default=10000, help="cap on requests per round")
    parser.add_argument(
        "--jobs", type=int, default=500, help="jobs created beforehand (the key set)"
    )
    parser.add_argument("--procs", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run bench/floor_app.py's three references (see the method above)",
    )
    args = parser.parse_args()
    git_at_start = bl.git_state()  # others commit concurrently: record what was measured
    levels = [int(x) for x in args.concurrency.split(",")]

    stack = bl.Stack(Path(tempfile.mkdtemp(prefix="bench-read-")))
    results: dict[int, dict[str, list]] = {}
    cpu: dict[int, dict[str, list[dict[str, float]]]] = {}
    started_at = time.monotonic()
    pool = None
    print(f"logs: {stack.log_dir}", flush=True)
    try:
        stack.start_moto()
        api, url = stack.start_api()
        ids: list[str] = []
        made = bl.closed_loop(bl.job_poster(url, BODY, ids), concurrency=8, seconds=120, max_ops=args.jobs)
        print(f"created {len(ids)} jobs in {made.seconds:.1f} s", flush=True)
        sqs = bl.aws(stack, "sqs")
        sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=bl.QUEUE)["QueueUrl"])

        factories = {"api": (api_factory, (url, "/api/jobs/", ids))}
        pids = {"api": api.pid}
        if args.floor:
            floor, floor_url = stack.start_uvicorn("floor", "floor_app:app", app_dir=BENCH)
            factories["floor-thread"] = (api_factory, (floor_url, "/thread/", ids))
            factories["floor-loop"] = (api_factory, (floor_url, "/loop/", ids))
            bare, bare_url = stack.start_uvicorn("floor-asgi", "floor_app:bare", app_dir=BENCH)
            factories["floor-asgi"] = (api_factory, (bare_url, "/asgi/", ids))
            pids["floor"] = floor.pid
            pids["floor-asgi"] = bare.pid
        factories["raw"] = (raw_factory, (dict(stack.env), ids))
        names = list(factories)
        pool = bl.LoadPool(args.procs, factories)
        motos = bl.stack_pids(stack)
        all_pids = {**pids, "moto-dynamodb": motos["moto-dynamodb"], "loadgen": pool.pids}

        for c in levels:
            results[c] = {n: [] for n in names}
            cpu[c] = {n: [] for n in names}
            for name in names:  # warm-up
                pool.run(name, concurrency=c, seconds=1.0, max_ops=300)
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    sampler = bl.CpuSampler(all_pids).start()
                    res = pool.run(name, concurrency=c, seconds=args.seconds, max_ops=args.max_ops)
                    cpu[c][name].append(sampler.stop())
                    results[c][name].append(res)
                    print(
                        f"c={c:<3} round {r + 1}/{args.rounds} {name:<12} {res.rate:7.1f} req/s"
                        f"  p50 {1000 * bl.percentile(res.latencies, 50):6.1f} ms"
                        f"  errors {res.errors}",
                        flush=True,
                    )
                    for sample in res.error_samples[:1]:
                        print(f"    error: {sample}", flush=True)
    finally:
        if pool is not None:
            pool.close()
        stack.stop_all()

    headers = ["conc", "variant", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]
    rows, ratio_rows = [], []
    summary: dict = {
        "benchmark": "read",
        "machine": bl.machine(),
        "git": {"atStart": git_at_start, "atEnd": bl.git_state()},
        "method": {
            "rounds": args.rounds,
            "secondsPerRound": args.seconds,
            "keys": len(ids),
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
        "GET /api/jobs/{id} vs raw GetItem (medians over rounds; CPU% 100 = one core)",
        [*headers, *(f"cpu% {p}" for p in all_pids)],
        rows,
    )
    bl.print_table(
        f"Ratio to raw (median of per-round ratios; target >= {TARGET} for api)",
        bl.RATIO_HEADERS,
        ratio_rows,
    )
    bl.print_json(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
