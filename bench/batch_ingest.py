"""Reading a 100,000-item batch file (issue 14): ingestion time and the worker's memory.

    .venv/bin/python bench/batch_ingest.py [--items 100000] [--format jsonl|csv]

A private stack (moto, API, one worker, events off). The file (JSON Lines or CSV of
``sha256`` items) is uploaded through the presigned flow (multipart over 64 MiB) and
submitted as a batch; the bench waits until ``total`` is known (every item read and
every child written), and prints the time, the children written per second, and the
worker pool child's peak RSS before and after (VmHWM: ingestion streams the file, so it
must not grow with it). The batch's children also start running meanwhile (the window
keeps that to 20 at a time); the stack is then stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devstack import Stack, wait_for  # noqa: E402


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


def make_file(items: int, fmt: str) -> bytes:
    if fmt == "csv":
        return ("text\n" + "".join(f"item number {i}\n" for i in range(items))).encode()
    return "".join(json.dumps({"text": f"item number {i}"}) + "\n" for i in range(items)).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    args = parser.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="batch-ingest-")),
                  extra_env={"BATCHLAB_EVENTS_ENABLED": "false"})
    try:
        stack.start_moto()
        _, url = stack.start_api()
        worker = stack.start_worker()
        data = make_file(args.items, args.format)
        with httpx.Client(base_url=url, timeout=120) as http:
            plan = http.post("/api/uploads", json={
                "filename": f"items.{args.format}", "size": len(data), "ownerId": "bench",
                "contentType": "text/csv" if args.format == "csv" else "application/x-ndjson"}).json()
            assert plan["kind"] == "single", "use fewer items (under 64 MiB)"
            assert httpx.put(plan["url"], content=data, headers=plan["headers"],
                             timeout=300).status_code == 200
            child = pool_children(worker.pid)[0]
            before = status_kb(child, "VmHWM")
            started = time.monotonic()
            batch = http.post("/api/batches", json={"name": "ingest", "type": "sha256",
                                                    "ownerId": "bench", "object": plan["key"]}).json()
            done = wait_for(lambda: (b := http.get(f"/api/batches/{batch['id']}").json())["total"]
                            is not None and b, timeout=3600, what="the file to be read", every=1)
            seconds = time.monotonic() - started
            after = status_kb(child, "VmHWM")
        result = {"items": args.items, "format": args.format, "bytes": len(data),
                  "total": done["total"], "seconds": round(seconds, 1),
                  "childrenPerSecond": round(done["total"] / seconds, 1),
                  "poolChildPeakRssMb": {"before": round(before / 1024, 1),
                                         "after": round(after / 1024, 1)}}
        print(json.dumps(result, indent=2))
    finally:
        stack.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
