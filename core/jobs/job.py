"""The job model: what the API accepts and returns (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from core.jobs.status import JobStatus

OWNER_PATTERN = r"^[A-Za-z0-9._@-]+$"


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class JobCreate(_Camel):
    """What POST /api/jobs takes. Validated in two steps (core.jobs.service._validated):
    this model, then the type's payload model; the OpenAPI document describes both
    at once, one schema per registered type (api/openapi.py)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any]
    # Required in open mode; in API-key mode the owner comes from the key.
    owner_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=OWNER_PATTERN)


class HistoryEntry(_Camel):
    status: JobStatus
    at: datetime
    # Null for the worker's transitions (the hot item keeps no notes since issue 13;
    # ``error`` says why). An operator action names itself (issue 15): "retried",
    # "bulk retry", "bulk cancel", or "retry unsent" (a retry whose message SQS refused).
    note: str | None = None


class JobSummary(_Camel):
    id: str
    name: str
    type: str
    owner_id: str
    status: JobStatus
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    max_attempts: int
    progress: int = Field(default=0, ge=0, le=100)
    error: str | None = None
    queue_wait_ms: int | None = Field(
        default=None, description="Created → the first attempt's start (ms); null until it starts.")
    run_ms: int | None = Field(
        default=None, description="The latest attempt's start → finish (ms); null unless finished.")
    started_attempt: int | None = Field(
        default=None, description="The attempt `startedAt` belongs to (the latest start).")
    next_attempt_at: datetime | None = Field(
        default=None, description="While QUEUED for a retry: when the next attempt is due.")


class Job(JobSummary):
    """A job as GET /api/jobs/{id} returns it. Payload and result live out of line
    when they are not tiny (core/jobs/jobdata.py):

    * ``payload``: present when it is kept in the job's own item; otherwise null,
      ``payloadBytes`` gives its size and GET /api/jobs/{id}/payload returns it;
    * ``result``: once COMPLETED, unless it is in S3: then ``resultUrl`` is a
      presigned GET URL (valid for an hour) and ``resultBytes`` its size;
      GET /api/jobs/{id}/result returns or redirects to it either way;
    * ``history``: the last four transitions; ``historyCount`` counts them all.
    """

    payload: dict[str, Any] | None = None
    payload_bytes: int | None = None
    result: dict[str, Any] | None = None
    result_bytes: int | None = None
    result_url: str | None = None
    history: list[HistoryEntry] = []
    history_count: int = 0
    rerun_of: str | None = Field(
        default=None, description="The job this one re-runs (POST /api/jobs/{id}/rerun).")


class JobPage(_Camel):
    items: list[JobSummary]
    next_cursor: str | None = None


class JobTypeInfo(_Camel):
    type: str
    description: str
    example: dict[str, Any]
    max_attempts: int


class Redrive(_Camel):
    moved: int
    job_ids: list[str]


MAX_BATCH = 100


class JobBatch(_Camel):
    """Up to 100 jobs, each validated on its own (one bad job does not sink the rest)."""

    jobs: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class BatchItem(_Camel):
    index: int
    status: int
    job: Job | None = None
    problem: dict[str, Any] | None = None


class BatchResult(_Camel):
    accepted: int
    rejected: int
    results: list[BatchItem]
