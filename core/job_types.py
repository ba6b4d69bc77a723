"""Job types: a registry keyed by ``type``.

A handler is a plain function of the validated payload that returns a small
JSON-able dict. Handlers that want to report progress or notice a cancellation
take a second argument, a :class:`JobContext`.

To add a type::

    class ReversePayload(BaseModel):
        text: str = Field(max_length=10_000)

    @job_type("reverse", payload=ReversePayload, example={"text": "abc"},
              description="Reverse a string.")
    def reverse(payload: ReversePayload) -> dict:
        return {"reversed": payload.text[::-1]}
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import io
import os
import random
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.settings import settings


class JobContext(Protocol):
    def report_progress(self, percent: int) -> None: ...

    def is_cancelled(self) -> bool: ...


class NullContext:
    """Context for handlers run outside a worker (tests, benchmarks)."""

    def report_progress(self, percent: int) -> None:
        pass

    def is_cancelled(self) -> bool:
        return False


class HandlerError(Exception):
    """A handler's expected failure: the job fails with this message.

    ``retryable=False`` (the default) means another attempt would fail the same
    way (bad input), so the job fails at once; ``True`` means a transient fault.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class JobCancelled(Exception):
    """Raised by a handler that noticed its job was cancelled."""


@dataclass(frozen=True)
class JobType:
    name: str
    description: str
    payload_model: type[BaseModel]
    example: dict[str, Any]
    handler: Callable[..., dict[str, Any]]
    max_attempts: int
    wants_context: bool

    def run(self, payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
        model = self.payload_model.model_validate(payload)
        if self.wants_context:
            return self.handler(model, ctx)
        return self.handler(model)


REGISTRY: dict[str, JobType] = {}


def job_type(
    name: str,
    *,
    payload: type[BaseModel],
    example: dict[str, Any],
    description: str,
    max_attempts: int | None = None,
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register ``handler`` under ``name``. The example must validate."""

    def register(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        if name in REGISTRY:
            raise ValueError(f"job type {name!r} is already registered")
        payload.model_validate(example)
        REGISTRY[name] = JobType(
            name=name,
            description=description,
            payload_model=payload,
            example=example,
            handler=handler,
            max_attempts=max_attempts or settings.default_max_attempts,
            wants_context=len(inspect.signature(handler).parameters) >= 2,
        )
        return handler

    return register


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- built-ins -------------------------------------------------------------

_MAX_TEXT = 60_000


class TextPayload(_Payload):
    text: str = Field(min_length=1, max_length=_MAX_TEXT)


_WORD = re.compile(r"\w+", re.UNICODE)


@job_type(
    "text-stats",
    payload=TextPayload,
    example={"text": "The quick brown fox jumps over the lazy dog. The dog sleeps."},
    description="Count characters, words, lines and sentences; list the most common words.",
)
def text_stats(payload: TextPayload) -> dict[str, Any]:
    words = [w.lower() for w in _WORD.findall(payload.text)]
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {
        "characters": len(payload.text),
        "words": len(words),
        "uniqueWords": len(counts),
        "lines": payload.text.count("\n") + 1,
        "sentences": len(re.findall(r"[.!?]+(?:\s|$)", payload.text)),
        "topWords": [{"word": w, "count": c} for w, c in top],
    }


@job_type(
    "sha256",
    payload=TextPayload,
    example={"text": "hello world"},
    description="SHA-256 digest of the UTF-8 text, in hex.",
)
def sha256(payload: TextPayload) -> dict[str, Any]:
    data = payload.text.encode("utf-8")
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


class CsvPayload(_Payload):
    csv: str = Field(min_length=1, max_length=_MAX_TEXT)


@job_type(
    "csv-summary",
    payload=CsvPayload,
    example={"csv": "city,temp\nLisbon,21.5\nOslo,4\nCairo,30.25\n"},
    description="Per-column summary of a CSV with a header row: count, and min/max/mean for numbers.",
)
def csv_summary(payload: CsvPayload) -> dict[str, Any]:
    rows = list(csv.reader(io.StringIO(payload.csv)))
    if not rows or not any(rows[0]):
        raise HandlerError("the CSV has no header row")
    header, body = rows[0], [r for r in rows[1:] if any(cell.strip() for cell in r)]
    columns = []
    for i, name in enumerate(header):
        cells = [r[i].strip() for r in body if i < len(r) and r[i].strip()]
        numbers = []
        for c in cells:
            try:
                numbers.append(float(c))
            except ValueError:
                break
        column: dict[str, Any] = {"name": name, "count": len(cells)}
        if cells and len(numbers) == len(cells):
            column |= {
                "kind": "number",
                "min": min(numbers),
                "max": max(numbers),
                "mean": round(statistics.fmean(numbers), 6),
            }
        else:
            column |= {"kind": "text", "distinct": len(set(cells))}
        columns.append(column)
    return {"rows": len(body), "columns": columns}


class SimulatePayload(_Payload):
    duration_seconds: float = Field(default=0.0, ge=0, le=900, alias="durationSeconds")
    failure_probability: float = Field(default=0.0, ge=0, le=1, alias="failureProbability")
    steps: int = Field(default=1, ge=1, le=100)
    filler: str = Field(
        default="", max_length=1_000_000,
        description="Ignored: pads the payload to a chosen size (issue 13's tests).",
    )
    result_bytes: int = Field(
        default=0, ge=0, le=256 * 1024 * 1024, alias="resultBytes",
        description="Return a result this large (a string of that many bytes), to exercise "
        "where results are stored (issue 13).",
    )
    crash: bool = Field(
        default=False,
        description="Exit the worker process abruptly on every attempt (crash-recovery tests). "
        "Refused unless BATCHLAB_SIMULATE_CRASH_ENABLED is set.",
    )

    @field_validator("crash")
    @classmethod
    def _crash_allowed(cls, value: bool) -> bool:
        if value and not settings.simulate_crash_enabled:
            raise ValueError("crash simulation is disabled on this deployment")
        return value


@job_type(
    "simulate",
    payload=SimulatePayload,
    example={"durationSeconds": 1, "failureProbability": 0, "steps": 4},
    description="Sleep for durationSeconds in steps, reporting progress; fail with failureProbability.",
)
def simulate(payload: SimulatePayload, ctx: JobContext) -> dict[str, Any]:
    if payload.crash:
        os._exit(70)  # what a segfault or the OOM killer looks like to Celery
    step = payload.duration_seconds / payload.steps
    for i in range(payload.steps):
        if ctx.is_cancelled():
            raise JobCancelled()
        if step:
            time.sleep(step)
        ctx.report_progress(int(100 * (i + 1) / payload.steps))
    if random.random() < payload.failure_probability:
        raise HandlerError(
            f"simulated failure (p={payload.failure_probability})", retryable=True
        )
    result: dict[str, Any] = {"sleptSeconds": payload.duration_seconds, "steps": payload.steps}
    if payload.result_bytes:
        result["data"] = "x" * payload.result_bytes
    return result
