"""A 100 MB, 1 M-row CSV through S3: the worker's peak memory and the time (issue 13).

    .venv/bin/python bench/csv_memory.py [--rows 1000000] [--mb 100]

Method: a private stack (moto, uvicorn, one `celery -A tasks worker`, as the
Procfile runs it). Generate a CSV of --rows rows padded to about --mb MB into a
temporary file; upload it as a client does (POST /api/uploads, then PUT each
presigned part read from the file, then complete); submit a csv-summary job naming
it and wait for COMPLETED. Read the peak RSS (VmHWM in /proc/<pid>/status: the
kernel's high-water mark of the resident set) of the Celery pool child that ran the
job, before (after a warm-up job) and after, and of the main process. Target: the
pool child stays under 200 MB.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devstack import Stack, wait_for  # noqa: E402

TARGET_MB = 200


def write_csv(path: Path, *, rows: int, size_mb: float) -> int:
    """Rows of six columns (numbers and text), padded so the file is about size_mb."""
    rnd = random.Random(13)
    head = "id,user,city,temp,amount,note\n"
    sample = "999999,user-1234,city-42,-12.34,12345.67,"
    # + 4: the notes vary by up to 6 characters around the pad, to vary the rows.
    pad = max(7, int(size_mb * 1_000_000 / rows) - len(sample) + 4)
    note = "x" * pad
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(head)
        batch = []
        for i in range(rows):
            batch.append(f"{i},user-{i % 5000},city-{i % 97},{rnd.uniform(-40, 45):.2f},"
                         f"{rnd.uniform(0, 1e5):.2f},{note[: pad - (i % 7)]}\n")
            if len(batch) == 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return path.stat().st_size


def upload(http: httpx.Client, path: Path) -> tuple[str, dict]:
    size = path.stat().st_size
    plan = http.post("/api/uploads", json={"filename": path.name, "contentType": "text/csv",
                                           "size": size, "ownerId": "bench"})
    plan.raise_for_status()
    plan = plan.json()
    with path.open("rb") as f:
        if plan["kind"] == "single":
            httpx.put(plan["url"], content=f.read(), headers=plan["headers"],
                      timeout=600).raise_for_status()
            return plan["key"], plan
        parts = []
        for part in plan["parts"]:
            f.seek((part["partNumber"] - 1) * plan["partSize"])
            resp = httpx.put(part["url"], content=f.read(part["size"]), timeout=600)
            resp.raise_for_status()
            parts.append({"partNumber": part["partNumber"], "etag": resp.headers["ETag"]})
    http.post(plan["completeUrl"], json={"key": plan["key"], "parts": parts}).raise_for_status()
    return plan["key"], plan


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def pool_children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def run_job(http: httpx.Client, payload: dict, *, timeout: float) -> dict:
    body = {"name": "csv bench", "type": "csv-summary", "payload": payload, "ownerId": "bench"}
    resp = http.post("/api/jobs", json=body)
    resp.raise_for_status()
    job_id = resp.json()["id"]
    return wait_for(
        lambda: (j := http.get(f"/api/jobs/{job_id}").json())["status"]
        in ("COMPLETED", "FAILED", "CANCELLED") and j,
        timeout=timeout, what="the CSV job", every=0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--mb", type=float, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="csv-memory-"))
    stack = Stack(work / "logs", extra_env={"BATCHLAB_VISIBILITY_TIMEOUT": "600"})
    try:
        stack.start_moto()
        _, url = stack.start_api()
        worker = stack.start_worker()
        http = httpx.Client(base_url=url, timeout=120)
        warm = run_job(http, {"csv": "a,b\n1,2\n"}, timeout=120)
        assert warm["status"] == "COMPLETED", warm
        children = pool_children(worker.pid)
        before = {c: status_kb(c, "VmHWM") for c in children}
        main_before = status_kb(worker.pid, "VmHWM")

        path = work / "bench.csv"
        t0 = time.monotonic()
        size = write_csv(path, rows=args.rows, size_mb=args.mb)
        t1 = time.monotonic()
        key, plan = upload(http, path)
        t2 = time.monotonic()
        job = run_job(http, {"object": key}, timeout=1800)
        t3 = time.monotonic()
        assert job["status"] == "COMPLETED", job
        assert job["result"]["rows"] == args.rows, job["result"]["rows"]
        after = {c: status_kb(c, "VmHWM") for c in pool_children(worker.pid) if c in before}
        child, peak_kb = max(after.items(), key=lambda kv: kv[1])
        ran = (datetime.fromisoformat(job["finishedAt"])
               - datetime.fromisoformat(job["startedAt"])).total_seconds()
        print(f"file               {size / 1e6:.1f} MB ({size / 2**20:.1f} MiB), "
              f"{args.rows:,} rows, 6 columns; written in {t1 - t0:.1f} s")
        print(f"upload             {plan['kind']}"
              + (f", {len(plan['parts'])} parts of {plan['partSize'] / 2**20:.0f} MiB"
                 if plan["kind"] == "multipart" else "")
              + f": {t2 - t1:.1f} s")
        print(f"job                {ran:.1f} s in the worker (startedAt→finishedAt), "
              f"{t3 - t2:.1f} s submit→COMPLETED")
        print(f"pool child peak    {peak_kb / 1024:.1f} MB RSS (VmHWM, pid {child}); "
              f"{before[child] / 1024:.1f} MB after the warm-up job; target < {TARGET_MB} MB")
        print(f"main process peak  {status_kb(worker.pid, 'VmHWM') / 1024:.1f} MB RSS (VmHWM); "
              f"{main_before / 1024:.1f} MB before the job (it polls SQS; the job runs in "
              "the pool child)")
        print(f"result             {job['result']['columns'][3]}")
        return 0 if peak_kb / 1024 < TARGET_MB else 1
    finally:
        stack.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
