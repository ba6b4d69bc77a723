"""CPU benchmark: CPU seconds per API request (POST, GET) and per no-op job in a worker.

    .venv/bin/python bench/cpu.py [--jobs 200] [--rounds 3] [--events both|on|off]
                                  [--concurrency 4] [--profile]

Method. One private moto stack. Per events setting (``both``: the default settings,
Celery events on, and BATCHLAB_EVENTS_ENABLED=false) one pair of processes: an API
and a worker (concurrency 1: main process + one pool child) bound to their own jobs
queue (``batchlab-jobs`` for the defaults, ``batchlab-jobs-noev`` for events off,
each bootstrapped with its dead-letter queue), so each worker runs only its API's
jobs. CPU time is utime+stime from /proc/<pid>/stat.

A round, per pair in turn (pairs interleaved, order alternating by round):
  1. POST ``--jobs`` jobs (type ``simulate``, ``{"durationSeconds": 0}``) with
     ``--concurrency`` client threads: API CPU / jobs = CPU per POST;
  2. wait until the worker drained its queue: worker CPU (main + child) from the start
     of the POSTs to the drain, minus its idle CPU rate (measured beforehand over
     ``--idle-seconds``) × that time, / jobs = CPU per job; moto-sqs and
     moto-dynamodb CPU over the same span / jobs = backend CPU per job (info);
  3. GET /api/jobs/{id} of those jobs, ``--jobs`` requests: API CPU / requests.

Reported: medians over rounds, in ms of CPU; and what they imply for one 2-core
instance at 100% CPU, excluding the backend: requests/s per core = 1000 / ms, per
instance × 2 (one uvicorn process or one worker per core: the GIL keeps a process
on one core), and jobs/s per core for workers. With ``--profile`` (py-spy in the
venv), the API's POSTs and the worker's jobs of the first round are also recorded
(``--gil``: only samples holding the GIL, i.e. Python CPU) and the top functions shown.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402

BODY = {"name": "cpu", "type": "simulate", "payload": {"durationSeconds": 0}, "ownerId": "bench"}
PAIRS = {
    "events-on": {},
    "events-off": {
        "BATCHLAB_EVENTS_ENABLED": "false",
        "BATCHLAB_QUEUE_NAME": "batchlab-jobs-noev",
        "BATCHLAB_DLQ_NAME": "batchlab-jobs-noev-dlq",
    },
}


def worker_cpu(pid: int) -> float:
    """CPU seconds of a worker: its main process and its pool child(ren)."""
    return bl.cpu_seconds(pid) + sum(bl.cpu_seconds(c) for c in bl.children(pid))


def wait_drained(sqs, url: str, timeout: float) -> bool:
    """Wait until the queue holds no visible and no in-flight message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bl.queue_depth(sqs, url) == (0, 0):
            return True
        time.sleep(0.2)  # progress poll of a bounded wait, not a test sync
    return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200, help="jobs (and GETs) per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", choices=("both", "on", "off"), default="both")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle baseline span")
    parser.add_argument("--profile", action="store_true", help="py-spy --gil, first round")
    args = parser.parse_args()
    git_at_start = bl.git_state()  # others commit concurrently: record what was measured
    pairs = [p for p in PAIRS if args.events == "both" or p == f"events-{args.events}"]

    stack = bl.Stack(Path(tempfile.mkdtemp(prefix="bench-cpu-")))
    started_at = time.monotonic()
    rows: dict[str, list[dict[str, float]]] = {p: [] for p in pairs}
    idle: dict[str, float] = {}
    profiles: dict[str, dict] = {}
    print(f"logs: {stack.log_dir}", flush=True)
    try:
        stack.start_moto()
        motos = bl.stack_pids(stack)
        sqs = bl.aws(stack, "sqs")
        procs: dict[str, dict] = {}
        for pair in pairs:
            env = PAIRS[pair]
            if env:
                stack.bootstrap(env=env)
            api, url = stack.start_api(env)
            worker = stack.start_worker(env)
            queue = env.get("BATCHLAB_QUEUE_NAME", bl.QUEUE)
            procs[pair] = {
                "api": api,
                "url": url,
                "worker": worker,
                "queue_url": sqs.get_queue_url(QueueName=queue)["QueueUrl"],
            }
        # Warm-up per pair: the API's producer pool builds a boto3 client per pooled
        # connection on first use, the worker's child its clients on its first job.
        for pair in pairs:
            p = procs[pair]
            with httpx.Client(base_url=p["url"], timeout=30) as http:
                warm = bl.closed_loop(
                    lambda _, url=p["url"]: (
                        lambda _: httpx.post(
                            f"{url}/api/jobs", json=BODY, timeout=30
                        ).raise_for_status()
                    ),
                    concurrency=args.concurrency,
                    seconds=60,
                    max_ops=10 * args.concurrency,
                )
                for _ in range(20):
                    http.get("/api/job-types")
            if not wait_drained(sqs, p["queue_url"], 120):
                print(f"{pair}: warm-up jobs not drained", flush=True)
            print(f"{pair}: warm-up {warm.ok} POSTs", flush=True)
        time.sleep(2)
        for pair in pairs:
            w = procs[pair]["worker"].pid
            c0, t0 = worker_cpu(w), time.monotonic()
            time.sleep(args.idle_seconds)
            idle[pair] = (worker_cpu(w) - c0) / (time.monotonic() - t0)
            print(f"{pair}: idle worker {1000 * idle[pair]:.1f} ms CPU/s", flush=True)

        for r in range(args.rounds):
            order = pairs if r % 2 == 0 else pairs[::-1]
            for pair in order:
                p = procs[pair]
                api_pid, w_pid = p["api"].pid, p["worker"].pid
                ids: list[str] = []
                poster = bl.job_poster(p["url"], BODY, ids)

                spies = {}
                if args.profile and r == 0 and bl.pyspy_available():
                    for name, pid in (
                        ("api", api_pid),
                        ("worker-main", w_pid),
                        *(("worker-child", c) for c in bl.children(w_pid)),
                    ):
                        out = stack.log_dir / f"{pair}-{name}.spy"
                        spies[name] = (bl.pyspy_record(pid, 8, out, gil=True), out)
                a0, w0 = bl.cpu_seconds(api_pid), worker_cpu(w_pid)
                m0 = {k: bl.cpu_seconds(motos[k]) for k in ("moto-sqs", "moto-dynamodb")}
                t0 = time.monotonic()
                res = bl.closed_loop(
                    poster, concurrency=args.concurrency, seconds=300, max_ops=args.jobs
                )
                a1 = bl.cpu_seconds(api_pid)
                wait_drained(sqs, p["queue_url"], 180)
                span = time.monotonic() - t0
                w1 = worker_cpu(w_pid)
                m1 = {k: bl.cpu_seconds(motos[k]) for k in ("moto-sqs", "moto-dynamodb")}
                for name, (proc, out) in spies.items():
                    proc.wait(timeout=60)
                    profiles.setdefault(pair, {})[name] = bl.pyspy_top(out)

                n = len(ids)
                g0 = bl.cpu_seconds(api_pid)
                http = httpx.Client(base_url=p["url"], timeout=30)
                gets = 0
                for i in range(args.jobs):
                    if http.get(f"/api/jobs/{ids[i % n]}").status_code == 200:
                        gets += 1
                http.close()
                g1 = bl.cpu_seconds(api_pid)
                row = {
                    "postMs": 1000 * (a1 - a0) / n,
                    "getMs": 1000 * (g1 - g0) / max(1, gets),
                    "workerMsPerJob": 1000 * (w1 - w0 - idle[pair] * span) / n,
                    "motoSqsMsPerJob": 1000 * (m1["moto-sqs"] - m0["moto-sqs"]) / n,
                    "motoDynamodbMsPerJob": 1000 * (m1["moto-dynamodb"] - m0["moto-dynamodb"]) / n,
                    "postsPerSecond": res.rate,
                    "drainSeconds": span,
                }
                rows[pair].append(row)
                print(
                    f"round {r + 1} {pair}: {n} POSTs {row['postMs']:.2f} ms, {gets} GETs "
                    f"{row['getMs']:.2f} ms, worker {row['workerMsPerJob']:.2f} ms/job, "
                    f"moto sqs {row['motoSqsMsPerJob']:.2f} + ddb "
                    f"{row['motoDynamodbMsPerJob']:.2f} ms/job",
                    flush=True,
                )
    finally:
        stack.stop_all()

    keys = ("postMs", "getMs", "workerMsPerJob", "motoSqsMsPerJob", "motoDynamodbMsPerJob")
    summary: dict = {
        "benchmark": "cpu",
        "machine": bl.machine(),
        "git": {"atStart": git_at_start, "atEnd": bl.git_state()},
        "method": {
            "jobsPerRound": args.jobs,
            "rounds": args.rounds,
            "clientThreads": args.concurrency,
            "statistic": "median over rounds",
            "unit": "ms of CPU (utime+stime)",
        },
        "idleWorkerMsPerSecond": {k: round(1000 * v, 2) for k, v in idle.items()},
        "results": {},
    }
    table, implied = [], []
    for pair in pairs:
        med = {k: round(bl.median([row[k] for row in rows[pair]]), 2) for k in keys}
        per_core = {
            "postsPerSecondPerCore": round(1000 / med["postMs"], 1) if med["postMs"] > 0 else None,
            "getsPerSecondPerCore": round(1000 / med["getMs"], 1) if med["getMs"] > 0 else None,
            "jobsPerSecondPerWorkerCore": round(1000 / med["workerMsPerJob"], 1)
            if med["workerMsPerJob"] > 0
            else None,
        }
        per_instance = {
            k.replace("PerCore", "Per2CoreInstance").replace("WorkerCore", "Worker2Core"): (
                round(2 * v, 1) if v else None
            )
            for k, v in per_core.items()
        }
        summary["results"][pair] = {
            "median": med,
            "perRound": rows[pair],
            "impliedAt100PercentCpu": {**per_core, **per_instance},
        }
        table.append([pair, *(med[k] for k in keys)])
        implied.append([pair, *per_core.values(), *per_instance.values()])
    if profiles:
        summary["profiles"] = profiles
    summary["seconds"] = round(time.monotonic() - started_at, 1)

    bl.print_table(
        "CPU per request / job, ms (medians over rounds)",
        [
            "settings",
            "POST /api/jobs",
            "GET /api/jobs/{id}",
            "worker per job",
            "moto-sqs per job",
            "moto-ddb per job",
        ],
        table,
    )
    bl.print_table(
        "Implied at 100% CPU, backend excluded (one process per core)",
        [
            "settings",
            "POST/s/core",
            "GET/s/core",
            "jobs/s/core",
            "POST/s 2 cores",
            "GET/s 2 cores",
            "jobs/s 2 cores",
        ],
        implied,
    )
    for pair, procs_prof in profiles.items():
        for name, prof in procs_prof.items():
            bl.print_table(
                f"py-spy --gil {pair} {name}: top functions, inclusive % of samples",
                ["function", "%"],
                prof["inclusive"],
            )
    bl.print_json(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
