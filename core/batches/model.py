"""The batch API's models (camelCase JSON), as the batch contract fixes them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from core.jobs.job import OWNER_PATTERN
from core.storage.uploads import KEY_PATTERN


class BatchStatus(str, Enum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_FAILURES = "COMPLETED_WITH_FAILURES"
    CANCELLED = "CANCELLED"


ENDED = frozenset({BatchStatus.COMPLETED, BatchStatus.COMPLETED_WITH_FAILURES,
                   BatchStatus.CANCELLED})


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class BatchCreate(_Camel):
    """POST /api/batches: inline ``items`` (1..BATCHLAB_BATCH_MAX_INLINE_ITEMS payloads)
    or an uploaded ``object`` (a key from POST /api/uploads) of JSON Lines or CSV."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    name: str = Field(min_length=1, max_length=90)
    type: str = Field(min_length=1, max_length=64)
    owner_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=OWNER_PATTERN)
    items: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=10_000)
    object: str | None = Field(default=None, max_length=1024, pattern=KEY_PATTERN)
    format: Literal["jsonl", "csv"] | None = None
    all_or_nothing: bool = False
    webhook_url: str | None = Field(default=None, min_length=8, max_length=2048,
                                    pattern=r"^https?://[^\s]+$")

    @model_validator(mode="after")
    def _one_source(self) -> BatchCreate:
        if (self.items is None) == (self.object is None):
            raise ValueError("give either items or object")
        return self


class InvalidItem(_Camel):
    line: int
    index: int
    errors: list[dict[str, str]]


class InvalidReport(_Camel):
    count: int = 0
    items: list[InvalidItem] = []


class Counts(BaseModel):
    QUEUED: int = 0
    PROCESSING: int = 0
    COMPLETED: int = 0
    FAILED: int = 0
    CANCELLED: int = 0


class Failure(_Camel):
    index: int
    job_id: str
    error: str | None = None


class BatchSummary(_Camel):
    id: str
    name: str
    type: str
    owner_id: str
    status: BatchStatus
    total: int | None = None
    ingested: int = 0
    counts: Counts
    progress: int = Field(ge=0, le=100)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    throughput: float | None = None
    eta_seconds: float | None = None
    invalid: InvalidReport
    webhook_url: str | None = None


class Batch(BatchSummary):
    failures: list[Failure] = []
    results_url: str | None = None


class BatchPage(_Camel):
    items: list[BatchSummary]
    next_cursor: str | None = None
