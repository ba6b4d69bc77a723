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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    # Payload fields naming an uploaded object (core.storage.uploads.check_reference at submit).
    uploads: tuple[str, ...] = ()

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
    uploads: tuple[str, ...] = (),
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
            uploads=uploads,
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


# csv-summary keeps per-column aggregates of a fixed size whatever the file's size: a
# 100 MB upload is read in chunks (never whole), and these caps bound what is kept.
CSV_MAX_COLUMNS = 100  # columns summarised; the rest are counted in columnsNotSummarised
CSV_DISTINCT_CAP = 10_000  # distinct values tracked per column (as hashes); then a lower bound
CSV_MAX_LINE_CHARS = 1024 * 1024  # a longer line is refused rather than read into memory
_CSV_CHUNK = 256 * 1024  # bytes per read from S3
_CSV_CHECK_EVERY = 20_000  # rows between progress reports / cancellation checks


class CsvPayload(_Payload):
    csv: str | None = Field(default=None, min_length=1, max_length=_MAX_TEXT,
                            description="The CSV text itself (up to 60,000 characters).")
    object: str | None = Field(
        default=None, max_length=1024, pattern=r"^uploads/",
        description="Or: the key of an uploaded CSV (POST /api/uploads), UTF-8, any size "
        "up to the upload limit.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> CsvPayload:
        if (self.csv is None) == (self.object is None):
            raise ValueError("give either csv (the text) or object (an uploaded file's key)")
        return self


class _Column:
    """One column's running aggregates, of a fixed size."""

    __slots__ = ("name", "count", "numeric", "low", "high", "total", "seen", "capped")

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.numeric = True
        self.low = self.high = self.total = 0.0
        self.seen: set[int] = set()  # hashes: bounded memory whatever the cells' length
        self.capped = False

    def add(self, cell: str) -> None:
        self.count += 1
        if not self.capped:
            self.seen.add(hash(cell))
            if len(self.seen) > CSV_DISTINCT_CAP:
                self.capped = True
                self.seen = set()
        if self.numeric:
            try:
                value = float(cell)
            except ValueError:
                self.numeric = False
                return
            if self.count == 1:
                self.low = self.high = value
            elif value < self.low:
                self.low = value
            elif value > self.high:
                self.high = value
            self.total += value

    def summary(self) -> dict[str, Any]:
        column: dict[str, Any] = {"name": self.name, "count": self.count}
        if self.count and self.numeric:
            mean = round(self.total / self.count, 6)
            return column | {"kind": "number", "min": self.low, "max": self.high, "mean": mean}
        if self.capped:
            # A lower bound: exact counting would keep every value of the column.
            return column | {"kind": "text", "distinct": CSV_DISTINCT_CAP, "distinctCapped": True}
        return column | {"kind": "text", "distinct": len(self.seen)}


def _lines(text: io.TextIOBase) -> Iterator[str]:
    while line := text.readline(CSV_MAX_LINE_CHARS):
        if len(line) == CSV_MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise HandlerError(f"a line of the CSV is longer than {CSV_MAX_LINE_CHARS} characters")
        yield line


class _Counted(io.RawIOBase):
    """An S3 body as a raw stream that counts the bytes read (for progress)."""

    def __init__(self, body: Any) -> None:
        self.body = body
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.read_bytes += n
        return n


def summarise_csv(
    text: io.TextIOBase, ctx: JobContext, *, progress: Callable[[], int] | None = None
) -> dict[str, Any]:
    """Per-column summary of a CSV read line by line: the memory it keeps does not
    grow with the rows (see the CSV_* caps)."""
    rows = csv.reader(_lines(text))
    try:
        header = next(rows, None)
        if not header or not any(header):
            raise HandlerError("the CSV has no header row")
        columns = [_Column(name) for name in header[:CSV_MAX_COLUMNS]]
        width = len(columns)
        count = 0
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            for column, cell in zip(columns, row[:width], strict=False):
                cell = cell.strip()
                if cell:
                    column.add(cell)
            if count % _CSV_CHECK_EVERY == 0:
                if ctx.is_cancelled():
                    raise JobCancelled()
                if progress is not None:
                    ctx.report_progress(min(99, progress()))
    except csv.Error as exc:
        raise HandlerError(f"the CSV is malformed: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise HandlerError(f"the file is not UTF-8 text: {exc.reason}") from exc
    result: dict[str, Any] = {"rows": count, "columns": [c.summary() for c in columns]}
    if len(header) > CSV_MAX_COLUMNS:
        result["columnsNotSummarised"] = len(header) - CSV_MAX_COLUMNS
    return result


@job_type(
    "csv-summary",
    payload=CsvPayload,
    example={"csv": "city,temp\nLisbon,21.5\nOslo,4\nCairo,30.25\n"},
    description="Per-column summary of a CSV with a header row: count, and min/max/mean for "
    "numbers. Give the text as `csv`, or upload a file (POST /api/uploads) and give its key "
    "as `object`: it is streamed from S3, so its size is not limited by the payload's.",
    uploads=("object",),
)
def csv_summary(payload: CsvPayload, ctx: JobContext) -> dict[str, Any]:
    if payload.csv is not None:
        return summarise_csv(io.StringIO(payload.csv, newline=""), ctx)
    from core.storage import objects  # noqa: PLC0415 - only the upload path needs S3 (and boto3)

    body, size = objects.open_sized_stream(payload.object)
    if body is None:
        raise HandlerError(f"the uploaded object {payload.object} no longer exists")
    raw = _Counted(body)
    # utf-8-sig: a byte-order mark (Excel writes one) is not part of the first header.
    text = io.TextIOWrapper(io.BufferedReader(raw, _CSV_CHUNK), encoding="utf-8-sig", newline="")
    try:
        return summarise_csv(text, ctx, progress=lambda: int(100 * raw.read_bytes / max(1, size)))
    finally:
        body.close()


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
    fail_attempts: int = Field(
        default=0, ge=0, le=20, alias="failAttempts",
        description="Fail permanently on attempts 1..failAttempts, succeed after: a batch's "
        "failing items that a retry-failed then completes (issue 14).",
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
    if getattr(ctx, "attempt", 1) <= payload.fail_attempts:
        raise HandlerError(f"simulated failure (attempt {getattr(ctx, 'attempt', 1)} of the "
                           f"first {payload.fail_attempts} that fail)")
    if random.random() < payload.failure_probability:
        raise HandlerError(
            f"simulated failure (p={payload.failure_probability})", retryable=True
        )
    result: dict[str, Any] = {"sleptSeconds": payload.duration_seconds, "steps": payload.steps}
    if payload.result_bytes:
        result["data"] = "x" * payload.result_bytes
    return result


# Teams' own types (BATCHLAB_JOB_MODULES, entry points "batchlab.job_types"; issue 16),
# imported once the built-ins are in: every process that validates or runs jobs (API,
# workers, tools) imports this module, so all of them get the same registry.
from core.plugins.loader import load_job_modules  # noqa: E402 - needs job_type defined

load_job_modules()
