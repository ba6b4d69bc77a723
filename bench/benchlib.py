"""Shared helpers for the benchmarks in bench/ (not a benchmark itself).

Imports only ``core`` from the project (plus boto3, httpx and the stdlib):
percentiles, per-process CPU from /proc, closed-loop load with N threads,
a boto3 client aimed at the stack's moto, and table/JSON output.
"""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import boto3
import httptools
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devstack import Stack  # noqa: E402,F401  (re-exported for the benches)

CLK_TCK = os.sysconf("SC_CLK_TCK")
TABLE = "Jobs"
QUEUE = "batchlab-jobs"


# --------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank-interpolated percentile (p in 0..100); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Iterable[float]) -> float:
    values = [v for v in values if v == v]  # drop nan
    return statistics.median(values) if values else float("nan")


#: Confidence of the intervals the ratio benches print.
CONFIDENCE = 0.95


def median_interval(
    values: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """Distribution-free confidence interval of the median: the order statistics
    x(k) .. x(n+1-k) for the largest k whose coverage, 1 - 2 P(B < k) with B ~ Bin(n, 1/2),
    is still >= ``confidence``. Returns (low, high, coverage). With too few values for
    that confidence (n < 6 at 95%) it is (min, max) and the lower coverage they give."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan"), float("nan"), 0.0

    def coverage(k: int) -> float:
        return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2**n

    k = 1
    while 2 * (k + 1) <= n + 1 and coverage(k + 1) >= confidence:
        k += 1
    return ordered[k - 1], ordered[n - k], coverage(k)


# --------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (scans /proc; fine for a handful of processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return sorted(found)


class CpuSampler:
    """CPU% of named processes between :meth:`start` and :meth:`stop` (100% = one core).

    A name may stand for several pids (their CPU is summed); a process that is gone
    counts as the CPU it had when last seen."""

    def __init__(self, pids: dict[str, int | Sequence[int]]) -> None:
        self.pids = {name: [p] if isinstance(p, int) else list(p) for name, p in pids.items()}
        self.before: dict[str, float] = {}
        self.started = 0.0
        self.result: dict[str, float] = {}
        self._last: dict[int, float] = {}

    def _cpu(self, name: str) -> float:
        total = 0.0
        for pid in self.pids[name]:
            try:
                self._last[pid] = cpu_seconds(pid)
            except OSError:
                pass
            total += self._last.get(pid, 0.0)
        return total

    def start(self) -> CpuSampler:
        self.before = {name: self._cpu(name) for name in self.pids}
        self.started = time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.started
        self.result = {
            name: round(100 * (self._cpu(name) - self.before[name]) / wall, 1) for name in self.pids
        }
        return self.result


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def stack_pids(stack: Stack) -> dict[str, int]:
    """moto-sqs, moto-dynamodb, api*, and per worker its main process and pool child(ren)."""
    pids: dict[str, int] = {}
    motos = [s for s in stack.services if s.name.startswith("moto") and s.alive()]
    if len(motos) >= 2:  # start_moto spawns SQS/SNS first, DynamoDB second
        pids["moto-sqs"] = motos[0].pid
        pids["moto-dynamodb"] = motos[1].pid
    for s in stack.services:
        if not s.alive() or s.name.startswith("moto"):
            continue
        pids[s.name] = s.pid
        if s.name.startswith("worker"):
            for i, child in enumerate(children(s.pid)):
                pids[f"{s.name}-child{i or ''}"] = child
    return pids


# --------------------------------------------------------------------- AWS


def aws(stack: Stack | dict[str, str], service: str, *, pool: int = 10):
    """A plain boto3 client for ``service`` on the stack's moto (no core.cost.meter hooks);
    ``stack`` may also be its ``env`` dict (in a load process)."""
    env = stack if isinstance(stack, dict) else stack.env
    endpoint = (
        env["AWS_ENDPOINT_URL_DYNAMODB"] if service == "dynamodb" else env["AWS_ENDPOINT_URL"]
    )
    session = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            max_pool_connections=pool,
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


@dataclass(frozen=True)
class HttpResult:
    status: int
    data: bytes


class _Closed(Exception):
    """The server closed the connection before a byte of the response came back."""


class Http:
    """A minimal keep-alive HTTP/1.1 client for load threads: one socket, each request
    written as one buffer, the response parsed by httptools (the C parser uvicorn itself
    uses); the connection is reopened if the server closed it.

    A load generator should cost as little as it can, so the benchmark measures the
    server: in a closed loop at concurrency 1 every client millisecond counts against
    the API's rate. Per request this costs ~0.12 ms of CPU here; the standard library's
    http.client ~0.28 ms, pycurl ~0.2 ms, urllib3 ~0.8 ms and httpx ~0.9 ms. (The raw
    variant's client cost is boto3 itself: that is the backend call being measured.)"""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        parts = urllib.parse.urlsplit(url)
        self.address = (parts.hostname, parts.port or 80)
        self.host = parts.netloc.encode()
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self._body: list[bytes] = []
        self._complete = False

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._complete = True

    def _request(self, method: bytes, path: str, body: bytes | None, extra: bytes) -> HttpResult:
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n%s" % (method, path.encode(), self.host, extra)
        if body is not None:
            head += b"Content-Length: %d\r\n" % len(body)
        data = head + b"\r\n" + (body or b"")
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = socket.create_connection(self.address, timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(data)
                return self._response()
            except (_Closed, BrokenPipeError, ConnectionResetError):
                self.close()  # a keep-alive connection the server closed: reopen once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _response(self) -> HttpResult:
        self._body, self._complete = [], False
        parser = httptools.HttpResponseParser(self)
        received = False
        while not self._complete:
            chunk = self.sock.recv(65536)
            if not chunk:
                if received:
                    raise ConnectionError("the server closed the connection mid-response")
                raise _Closed()
            received = True
            parser.feed_data(chunk)
        result = HttpResult(parser.get_status_code(), b"".join(self._body))
        if not parser.should_keep_alive():
            self.close()
        return result

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def get(self, path: str) -> HttpResult:
        return self._request(b"GET", path, None, b"")

    def post_json(self, path: str, body: bytes) -> HttpResult:
        return self._request(b"POST", path, body, b"Content-Type: application/json\r\n")


def job_poster(url: str, body: dict, ids: list[str]) -> Callable[[int], Callable[[int], None]]:
    """A ``closed_loop`` factory: per thread an HTTP client POSTing ``body`` to
    /api/jobs and appending each new JobId to ``ids``."""
    payload = json.dumps(body).encode()

    def make(_: int) -> Callable[[int], None]:
        http = Http(url)

        def op(_: int) -> None:
            resp = http.post_json("/api/jobs", payload)
            if resp.status != 202:
                raise RuntimeError(f"HTTP {resp.status}: {resp.data[:200]!r}")
            ids.append(json.loads(resp.data)["id"])

        return op

    return make


def queue_depth(sqs, url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def batch_get_items(ddb, ids: Sequence[str]) -> list[dict]:
    """JobId, Status, CreatedAt, StartedAt, FinishedAt of every job of ``ids`` (strongly
    consistent), 100 keys per BatchGetItem."""
    out: list[dict] = []
    for i in range(0, len(ids), 100):
        request: dict = {
            TABLE: {
                "Keys": [{"JobId": {"S": j}} for j in ids[i : i + 100]],
                "ConsistentRead": True,
                "ProjectionExpression": "JobId, #s, CreatedAt, StartedAt, FinishedAt",
                "ExpressionAttributeNames": {"#s": "Status"},
            }
        }
        for _ in range(10):
            resp = ddb.batch_get_item(RequestItems=request)
            out += resp["Responses"].get(TABLE, [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
    return out


def epoch(iso: str | None) -> float | None:
    """An ISO-8601 timestamp of the store (``...Z``) as epoch seconds."""
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# --------------------------------------------------------------------- load


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        ms = [x * 1000 for x in self.latencies]
        return {
            "ok": self.ok,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "p50_ms": round(percentile(ms, 50), 2),
            "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2),
        }


def closed_loop(
    make_worker: Callable[[int], Callable[[int], None]] | Sequence[Callable[[int], None]],
    *,
    concurrency: int,
    seconds: float,
    max_ops: int,
    before_start: Callable[[], None] | None = None,
) -> LoadResult:
    """``concurrency`` threads each call their op back to back until ``seconds`` pass
    or ``max_ops`` ops were started in total. ``make_worker(thread_index)`` runs in the
    thread before the clock starts (build clients there) and returns ``op(i)``; or pass
    the ops themselves (a sequence, one per thread). ``before_start`` runs once every
    thread is ready, just before the clock starts."""
    result = LoadResult()
    lock = threading.Lock()
    counter = [0]
    ready = threading.Barrier(concurrency + 1)
    go = threading.Event()
    deadline = [0.0]

    def run(index: int) -> None:
        try:
            op = make_worker[index] if isinstance(make_worker, Sequence) else make_worker(index)
        finally:
            ready.wait()
        go.wait()
        local: list[float] = []
        ok = errors = 0
        samples: list[str] = []
        while time.perf_counter() < deadline[0]:
            with lock:
                i = counter[0]
                if i >= max_ops:
                    break
                counter[0] += 1
            t0 = time.perf_counter()
            try:
                op(i)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors += 1
                if len(samples) < 3:
                    samples.append(repr(exc)[:200])
                continue
            local.append(time.perf_counter() - t0)
            ok += 1
        with lock:
            result.latencies += local
            result.ok += ok
            result.errors += errors
            result.error_samples += samples

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    ready.wait(timeout=120)
    if before_start is not None:
        before_start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    go.set()
    for t in threads:
        t.join(timeout=seconds + 120)
    result.seconds = time.perf_counter() - started
    return result


Factory = Callable[..., Callable[[int], Callable[[int], None]]]


def _pool_main(conn, factories: dict[str, tuple[Factory, tuple]]) -> None:
    """A load-generator process: builds ops on "prepare" (cached per variant and thread),
    runs them on "go", sends the result back."""
    built: dict[str, Callable[[int], Callable[[int], None]]] = {}
    ops: dict[tuple[str, int], Callable[[int], None]] = {}
    while True:
        msg = conn.recv()
        if msg[0] == "exit":
            return
        _, variant, first, threads = msg
        if variant not in built:
            factory, args = factories[variant]
            built[variant] = factory(*args)
        for i in range(first, first + threads):
            if (variant, i) not in ops:
                ops[(variant, i)] = built[variant](i)
        conn.send("ready")
        go = conn.recv()
        _, seconds, max_ops = go
        res = closed_loop(
            [ops[(variant, i)] for i in range(first, first + threads)],
            concurrency=threads,
            seconds=seconds,
            max_ops=max_ops,
        )
        conn.send((res.ok, res.errors, res.seconds, res.latencies, res.error_samples))


class LoadPool:
    """Closed-loop load from several processes (one Python process of boto3 or httpx
    threads saturates a core on its GIL long before the backend does).

    ``factories[variant] = (factory, args)``: ``factory(*args)`` runs in each process
    and returns ``make_worker(thread_index) -> op(i)``; both must be module-level
    functions (the processes are spawned). Ops are built once per thread and reused,
    so clients and keep-alive connections survive from round to round.
    """

    def __init__(self, processes: int, factories: dict[str, tuple[Factory, tuple]]) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.conns = []
        self.procs = []
        for _ in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_pool_main, args=(child, factories), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def run(self, variant: str, *, concurrency: int, seconds: float, max_ops: int) -> LoadResult:
        n = min(len(self.conns), concurrency)
        shares = [concurrency // n + (1 if i < concurrency % n else 0) for i in range(n)]
        first = 0
        for conn, threads in zip(self.conns, shares, strict=False):
            conn.send(("prepare", variant, first, threads))
            first += threads
        for conn in self.conns[:n]:
            if not conn.poll(180):
                raise TimeoutError("a load process did not get ready")
            conn.recv()
        for conn, threads in zip(self.conns, shares, strict=False):
            conn.send(("go", seconds, max(1, max_ops * threads // concurrency)))
        result = LoadResult()
        for conn in self.conns[:n]:
            if not conn.poll(seconds + 180):
                raise TimeoutError("a load process did not finish")
            ok, errors, secs, latencies, samples = conn.recv()
            result.ok += ok
            result.errors += errors
            result.seconds = max(result.seconds, secs)
            result.latencies += latencies
            result.error_samples += samples
        return result

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("exit",))
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


# --------------------------------------------------------------------- output


def fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    rows = [[fmt(c) for c in r] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=False)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=False)))


def _finite(value: object) -> object:
    """NaN → None, recursively, so the output is strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def print_json(summary: dict) -> None:
    print("\nJSON:")
    print(json.dumps(_finite(summary), indent=2, sort_keys=False, allow_nan=False))


def machine() -> dict[str, object]:
    load1, load5, _ = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "loadavgAtStart": [round(load1, 2), round(load5, 2)],
        "python": sys.version.split()[0],
    }


def git_state() -> dict[str, object]:
    """The commit measured, and whether product files differ from it (others edit concurrently)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]

    def run(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = run("status", "--porcelain", "--", "api", "core", "tasks", "celeryconfig.py")
    return {"commit": run("rev-parse", "--short", "HEAD"), "productFilesModified": bool(dirty)}


def purger(sqs, url: str, every: float, stop: threading.Event) -> threading.Thread:
    """Purge ``url`` every ``every`` s until ``stop``: keeps moto's queue shallow (its
    SendMessage/ReceiveMessage cost grows with depth). Needs the stack started with
    MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false (moto's default: one purge a minute)."""

    def loop() -> None:
        while not stop.wait(every):
            try:
                sqs.purge_queue(QueueUrl=url)
            except Exception:  # noqa: BLE001 - best effort; the next tick retries
                pass

    thread = threading.Thread(target=loop, name="purger", daemon=True)
    thread.start()
    return thread


TABLE_KEYS = ("reqPerSecond", "p50Ms", "p95Ms", "p99Ms", "errors")


def round_medians(runs: Sequence[LoadResult]) -> dict[str, object]:
    """Medians over rounds of throughput and latency percentiles, plus every round's rate."""
    sums = [r.summary() for r in runs]
    return {
        "reqPerSecond": round(median([s["rate"] for s in sums]), 1),
        "p50Ms": round(median([s["p50_ms"] for s in sums]), 1),
        "p95Ms": round(median([s["p95_ms"] for s in sums]), 1),
        "p99Ms": round(median([s["p99_ms"] for s in sums]), 1),
        "errors": sum(s["errors"] for s in sums),
        "perRoundReqPerSecond": [s["rate"] for s in sums],
    }


#: Columns of the ratio table that :func:`summarise_level` fills.
RATIO_HEADERS = ["conc", "ratio", "median", "95% CI", "min", "max", "meets"]


def paired_ratio(a: Sequence[LoadResult], b: Sequence[LoadResult], target: float) -> dict:
    """Median, min and max of a.rate / b.rate over rounds (each pair measured back to back),
    the median's 95% confidence interval, and the verdict against ``target``: ``yes`` if the
    whole interval is at or above it, ``NO`` if it is all below, ``line`` if it straddles
    the target (the rounds cannot tell; run more of them), ``too few rounds`` under 6."""
    per_round = [x.rate / y.rate for x, y in zip(a, b, strict=True) if y.rate]
    if not per_round:
        nan = float("nan")
        return {"median": nan, "min": nan, "max": nan, "ci95": [nan, nan],
                "meetsTarget": False, "verdict": "NO"}
    mid = median(per_round)
    low, high, coverage = median_interval(per_round)
    if coverage < CONFIDENCE:
        verdict = "too few rounds"  # fewer than 6: no 95% interval
    else:
        verdict = "yes" if low >= target else "NO" if high < target else "line"
    return {
        "median": round(mid, 3),
        "min": round(min(per_round), 3),
        "max": round(max(per_round), 3),
        "ci95": [round(low, 3), round(high, 3)],
        "meetsTarget": verdict == "yes",  # as the table's "meets": the interval clears it
        "verdict": verdict,
    }


def summarise_level(
    level: int,
    results: dict[str, list[LoadResult]],
    cpu: dict[str, list[dict[str, float]]],
    target: float,
) -> tuple[dict, list[list], list[list]]:
    """One concurrency level of a variants-against-``raw`` benchmark (create, read): per
    variant the round medians with the median CPU% of each sampled process, and each other
    variant's paired ratio to raw. Returns (JSON entry, table rows, ratio-table rows)."""
    entry: dict = {}
    rows, ratio_rows = [], []
    for name, runs in results.items():
        med = round_medians(runs)
        med["cpuPercent"] = {p: median([s[p] for s in cpu[name]]) for p in cpu[name][0]}
        entry[name] = med
        rows.append([level, name, *(med[k] for k in TABLE_KEYS), *med["cpuPercent"].values()])
    entry["ratioToRaw"] = {}
    for name in (n for n in results if n != "raw"):
        ratio = paired_ratio(results[name], results["raw"], target)
        entry["ratioToRaw"][name] = ratio
        low, high = ratio["ci95"]
        ratio_rows.append([level, f"{name}/raw", ratio["median"], f"{low:.2f}–{high:.2f}",
                           ratio["min"], ratio["max"], ratio["verdict"]])
    return entry, rows, ratio_rows


# --------------------------------------------------------------------- profiles

PYSPY = Path(sys.executable).parent / "py-spy"


def pyspy_available() -> bool:
    return PYSPY.exists()


def pyspy_record(pid: int, seconds: float, out: Path, *, gil: bool = False):
    """Start ``py-spy record`` (collapsed stacks) on ``pid`` for ``seconds``; returns the Popen."""
    import subprocess

    argv = [
        str(PYSPY),
        "record",
        "-p",
        str(pid),
        "-d",
        str(int(seconds)),
        "-r",
        "100",
        "-f",
        "raw",
        "-o",
        str(out),
        "--nonblocking",
    ]
    if gil:
        argv.append("--gil")
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


#: Frames worth showing in a profile's inclusive list (the rest are frameworks' plumbing).
PROFILE_FRAMES = (
    "api/",
    "core/",
    "tasks/",
    "moto/sqs/",
    "moto/sns/",
    "moto/dynamodb/",
    "moto/core/responses",
    "moto/core/serialize",
    "moto/core/utils",
    "celery/events/",
    "celery/app/amqp",
    "celery/app/base",
    "kombu/transport/SQS",
    "kombu/messaging",
    "kombu/message",
    "botocore/client.py:BaseClient._make",
    "botocore/auth",
    "botocore/parsers",
    "botocore/serialize",
    "botocore/hooks",
    "fastapi/routing",
    "fastapi/_compat",
    "fastapi/encoders",
    "fastapi/dependencies",
    "anyio/to_thread",
    "starlette/concurrency",
    "pydantic/",
    "httptools",
    "uvicorn/protocols",
    "logging/",
    "json/",
    "celery/worker/request",
)


def pyspy_top(path: Path, *, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """From collapsed stacks: the leaf functions with most samples ("self") and the
    PROFILE_FRAMES functions with most samples under them ("inclusive"), in % of samples."""
    from collections import Counter

    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return {"samples": 0, "self": [], "inclusive": []}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = []
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            module = where.split(":")[0].rstrip(")")
            for marker in ("site-packages/", "lib/python3.11/"):
                if marker in module:
                    module = module.split(marker, 1)[1]
            if "/work/" in module:
                module = "/".join(module.split("/")[-2:])
            frames.append(f"{module}:{name}")
        if frames:
            self_time[frames[-1]] += count
        for f in set(frames):
            if f.startswith(PROFILE_FRAMES):
                inclusive[f] += count

    def pct(counter: Counter[str]) -> list[tuple[str, float]]:
        return (
            [(k, round(100 * v / total, 1)) for k, v in counter.most_common(top)] if total else []
        )

    return {"samples": total, "self": pct(self_time), "inclusive": pct(inclusive)}
