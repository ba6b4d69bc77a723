"""Jobs over time (GET /api/charts): finished jobs, queue wait and run time per minute.

No per-job write (issue 15): each process aggregates in memory, per minute, owner and
type, what its workers saw (a first start's queue wait; a COMPLETED or FAILED write's
count and run time) and :func:`take` hands the current minute's aggregate to the
meter's own flush (core.cost.costs.flush: one PutItem per process per minute slot, every
``meter_flush_seconds``), which stores it beside the request counts as ``Charts``.
An API process also samples the jobs queue's depth once a minute there (one
GetQueueAttributes per minute). As with the request counts, what a process saw after
its last flush of a minute is written with the next minute.

Durations go into log-scale buckets (×1.2 apart): bucket counts add up across
processes, so the p50/p95 of a minute are those of every worker's jobs, to within
±10 %. (DDSketch does the same with proven bounds, but its portable form is protobuf;
here the buckets are a few JSON numbers inside an item that is written anyway.)

Reading: the window's meter items (one Query per UTC day, as /api/cost), cached per
API process for ``meter_flush_seconds`` whatever the number of viewers.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from core.settings import settings

GROWTH = 1.2
MAX_CELLS = 200  # owner × type cells per process per minute; the rest go to owner "*"
_OTHER = "*"


def bucket(ms: int) -> int:
    """The log bucket of a duration: 0 for < 1 ms, then ×1.2 apart."""
    return 0 if ms < 1 else 1 + int(math.log(ms) / math.log(GROWTH))


def bucket_value(index: int) -> int:
    """A bucket's representative duration (ms): the geometric middle of its bounds."""
    return 0 if index == 0 else round(GROWTH ** (index - 0.5))


def percentile(buckets: dict[int, int], q: float) -> int | None:
    total = sum(buckets.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index in sorted(buckets):
        seen += buckets[index]
        if seen >= rank:
            return bucket_value(index)
    return None  # pragma: no cover - rank <= total


# --- recording (every process; workers in practice) --------------------------------


class _Minute:
    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(self, owner: str, type_: str) -> dict[str, Any]:
        key = (owner, type_)
        if key not in self.cells and len(self.cells) >= MAX_CELLS:
            key = (_OTHER, type_)
        return self.cells.setdefault(key, {"c": 0, "f": 0, "w": Counter(), "r": Counter()})

    def add(self, other: _Minute) -> None:
        for (owner, type_), cell in other.cells.items():
            mine = self.cell(owner, type_)
            mine["c"] += cell["c"]
            mine["f"] += cell["f"]
            mine["w"].update(cell["w"])
            mine["r"].update(cell["r"])


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending = _Minute()  # since the last flush
        self.minute: int | None = None
        self.current = _Minute()  # the flush minute's total so far
        self.depth: int | None = None
        self.depth_minute: int | None = None


_recorders: dict[int, _Recorder] = {}


def _recorder() -> _Recorder:
    # Per process: a forked pool child starts empty.
    return _recorders.setdefault(os.getpid(), _Recorder())


def record_wait(*, owner: str, type_: str, wait_ms: int) -> None:
    """A job's first attempt started ``wait_ms`` after it was created."""
    rec = _recorder()
    with rec.lock:
        rec.pending.cell(owner, type_)["w"][bucket(wait_ms)] += 1


def record_finish(*, owner: str, type_: str, completed: bool, run_ms: int | None) -> None:
    """A job ended COMPLETED or FAILED; ``run_ms`` its last attempt's start → finish."""
    rec = _recorder()
    with rec.lock:
        cell = rec.pending.cell(owner, type_)
        cell["c" if completed else "f"] += 1
        if run_ms is not None:
            cell["r"][bucket(run_ms)] += 1


def record_item(raw: dict[str, Any], *, started: bool = False) -> None:
    """Record from an unmarshalled hot item just written: a first start's queue wait,
    or a terminal COMPLETED/FAILED write. Never raises (charts are no reason to fail
    a job)."""
    from core.jobs.hot import times_of  # here: core.jobs.hot's import chain reaches the store

    try:
        times = times_of(raw)
        owner, type_ = str(raw["OwnerId"]), str(raw["Type"])
        if started:
            if int(raw.get("Attempts", 0)) == 1 and times["queue_wait_ms"] is not None:
                record_wait(owner=owner, type_=type_, wait_ms=times["queue_wait_ms"])
        elif raw.get("Status") in ("COMPLETED", "FAILED"):
            record_finish(owner=owner, type_=type_, completed=raw["Status"] == "COMPLETED",
                          run_ms=times["run_ms"])
    except (KeyError, TypeError, ValueError):
        pass


def has_pending() -> bool:
    rec = _recorder()
    with rec.lock:
        return bool(rec.pending.cells)


def _encode(minute: _Minute, depth: int | None) -> str:
    owners: dict[str, dict[str, Any]] = {}
    for (owner, type_), cell in minute.cells.items():
        owners.setdefault(owner, {})[type_] = {
            "c": cell["c"], "f": cell["f"],
            "w": {str(k): v for k, v in cell["w"].items()},
            "r": {str(k): v for k, v in cell["r"].items()},
        }
    body: dict[str, Any] = {"o": owners}
    if depth is not None:
        body["d"] = depth
    return json.dumps(body, separators=(",", ":"))


def take(minute: int, *, sample_depth: Any = None) -> str | None:
    """The ``Charts`` attribute for this process's meter item of ``minute`` (JSON), or
    None if it saw nothing this minute. ``sample_depth`` (the API's flush): a function
    returning the jobs queue's depth, called at most once a minute."""
    rec = _recorder()
    depth_due = sample_depth is not None and rec.depth_minute != minute
    depth = sample_depth() if depth_due else None
    with rec.lock:
        if rec.minute != minute:
            rec.minute, rec.current = minute, _Minute()
        rec.current.add(rec.pending)
        rec.pending = _Minute()
        if depth_due:
            rec.depth, rec.depth_minute = depth, minute
        keep_depth = rec.depth if rec.depth_minute == minute else None
        if not rec.current.cells and keep_depth is None:
            return None
        return _encode(rec.current, keep_depth)


# --- reading -----------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}


def _window(minutes: int) -> list[dict[str, Any]]:
    """The window's meter items that carry charts (Minute, Charts), cached briefly."""
    from core.cost import costs  # here: costs imports this module for its flush

    now = time.monotonic()
    with _cache_lock:
        found = _cache.get(minutes)
        if found and now - found[0] < max(1.0, settings.meter_flush_seconds):
            return found[1]
    items = [
        {"minute": int(item["Minute"]["N"]), "charts": json.loads(item["Charts"]["S"])}
        for item in costs.window_items(minutes * 60)
        if "Charts" in item
    ]
    with _cache_lock:
        _cache[minutes] = (time.monotonic(), items)
    return items


def report(*, minutes: int, owner_id: str | None) -> list[dict[str, Any]]:
    """One entry per minute of the window, oldest first: completed, failed, queueDepth
    (None for a tenant: the queue holds every tenant's jobs, and without per-owner
    depth history the honest figure is none), and per type the wait and run p50/p95.
    ``owner_id`` None: every owner's jobs (operators, open mode)."""
    end = int(time.time() // 60) * 60
    first = end - (minutes - 1) * 60
    per_minute: dict[int, dict[str, Any]] = {
        m: {"completed": 0, "failed": 0, "depth": None, "types": {}}
        for m in range(first, end + 1, 60)
    }
    for entry in _window(minutes):
        slot = per_minute.get(entry["minute"])
        if slot is None:
            continue
        body = entry["charts"]
        if owner_id is None and body.get("d") is not None:
            slot["depth"] = max(slot["depth"] or 0, int(body["d"]))
        for owner, types in body.get("o", {}).items():
            if owner_id is not None and owner != owner_id:
                continue
            for type_, cell in types.items():
                slot["completed"] += cell.get("c", 0)
                slot["failed"] += cell.get("f", 0)
                acc = slot["types"].setdefault(type_, {"c": 0, "w": Counter(), "r": Counter()})
                acc["c"] += cell.get("c", 0) + cell.get("f", 0)
                acc["w"].update({int(k): v for k, v in cell.get("w", {}).items()})
                acc["r"].update({int(k): v for k, v in cell.get("r", {}).items()})
    out = []
    for minute, slot in per_minute.items():
        by_type = {
            type_: {
                "wait_p50_ms": percentile(acc["w"], 0.5), "wait_p95_ms": percentile(acc["w"], 0.95),
                "run_p50_ms": percentile(acc["r"], 0.5), "run_p95_ms": percentile(acc["r"], 0.95),
                "count": acc["c"],
            }
            for type_, acc in sorted(slot["types"].items())
        }
        out.append({
            "at": datetime.fromtimestamp(minute, UTC), "completed": slot["completed"],
            "failed": slot["failed"], "queue_depth": slot["depth"], "by_type": by_type,
        })
    return out
