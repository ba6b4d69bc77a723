"""What the operations endpoints take and return (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from core.errors import InvalidField
from core.jobs.job import OWNER_PATTERN, _Camel
from core.jobs.listing import JobFilter


class BulkFilter(_Camel):
    """The job list's filters (GET /api/jobs), as a body. A tenant's are its own jobs
    (``ownerId`` is its key's, or omitted); an operator may omit ``ownerId`` for every
    owner's jobs."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    owner_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=OWNER_PATTERN)
    status: list[str] | str | None = Field(
        default=None, description="One status, a comma-separated list, or a list.")
    type: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    name_match: Literal["prefix", "contains"] = "prefix"
    created_after: datetime | None = None
    created_before: datetime | None = None

    def to_filter(self, owner_id: str | None) -> JobFilter:
        statuses = [self.status] if isinstance(self.status, str) else self.status
        try:
            return JobFilter.build(
                owner_id=owner_id, statuses=statuses, type=self.type, name=self.name,
                name_match=self.name_match, created_after=self.created_after,
                created_before=self.created_before,
            )
        except InvalidField as exc:  # named as the body has it: filter.status
            raise InvalidField(f"filter.{exc.field}", exc.message) from None


class BulkRequest(_Camel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    action: Literal["cancel", "retry"]
    filter: BulkFilter = Field(default_factory=BulkFilter)
    dry_run: bool = Field(default=True, description="Count only (the default); act on nothing.")
    limit: int = Field(default=1000, ge=1, le=1000, description="Act on at most this many, newest first.")
    expected_count: int | None = Field(
        default=None, ge=0,
        description="Required to execute: the dry run's `matched`. A different count now is a 409.")


class BulkResult(_Camel):
    action: Literal["cancel", "retry"]
    dry_run: bool
    matched: int = Field(description="Jobs the action applies to (at most `limit`).")
    acted: int = Field(description="Jobs acted on (0 in a dry run); a job that moved meanwhile is skipped.")
    capped: bool = Field(description="More jobs may match than were counted (the limit or the read bound).")
    job_ids: list[str] = Field(description="The first 100 JobIds matched (dry run) or acted on.")


class DeadLetter(_Camel):
    job_id: str
    type: str | None = Field(default=None, description="Null if the job is gone (expired).")
    owner_id: str | None = None
    last_error: str | None = None
    attempts: int | None = None
    dead_lettered_at: datetime | None = Field(
        default=None, description="When the job was marked FAILED as dead-lettered (null until "
        "a worker's reconcile, every 30 s, marks it).")


class DeadLetterList(_Camel):
    approximate_count: int = Field(description="SQS's ApproximateNumberOfMessages of the DLQ.")
    items: list[DeadLetter] = Field(description="Up to `limit` dead-lettered jobs, one per JobId.")


class TypeFigures(_Camel):
    wait_p50_ms: int | None = None
    wait_p95_ms: int | None = None
    run_p50_ms: int | None = None
    run_p95_ms: int | None = None
    count: int = Field(default=0, description="Jobs finished (COMPLETED or FAILED) this minute.")


class ChartMinute(_Camel):
    at: datetime = Field(description="The minute (UTC).")
    completed: int
    failed: int
    queue_depth: int | None = Field(
        default=None, description="Messages waiting in the jobs queue (sampled once a minute "
        "by the API); null for a tenant (the queue holds every tenant's jobs) or if not sampled.")
    by_type: dict[str, TypeFigures]


class Charts(_Camel):
    minutes: list[ChartMinute]
