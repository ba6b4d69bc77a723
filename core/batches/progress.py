"""A batch's counts, progress, throughput and ETA from its stored figures. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Figures:
    ingested: int
    total: int | None
    completed: int
    failed: int
    cancelled: int
    processing: int
    ended: bool


def counts(f: Figures) -> dict[str, int]:
    """Children per status; they sum to ``ingested`` (QUEUED is the rest)."""
    finished = f.completed + f.failed + f.cancelled
    processing = max(0, min(f.processing, f.ingested - finished))
    return {"QUEUED": max(0, f.ingested - finished - processing), "PROCESSING": processing,
            "COMPLETED": f.completed, "FAILED": f.failed, "CANCELLED": f.cancelled}


def percent(f: Figures) -> int:
    if f.ended:
        return 100
    if not f.total:
        return 0
    finished = f.completed + f.failed + f.cancelled
    return max(0, min(100, int(100 * finished / f.total)))


def rate(f: Figures, *, started: datetime | None, until: datetime) -> tuple[float | None, float | None]:
    """(children finished per second so far, seconds left at that pace)."""
    finished = f.completed + f.failed + f.cancelled
    if started is None or finished <= 0:
        return None, None
    seconds = (until - started).total_seconds()
    if seconds <= 0:
        return None, None
    throughput = finished / seconds
    if f.ended or f.total is None:
        return round(throughput, 3), None if not f.ended else 0.0
    return round(throughput, 3), round(max(0, f.total - finished) / throughput, 1)
