"""Operating on jobs (issue 15): retry, re-run, bulk actions by filter, and charts."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response

from api.deps import CallerDep, EnqueueDep, EnqueueManyDep, KeyOwnerDep
from api.routes.jobs import job_response
from core.jobs import service
from core.jobs.job import Job
from core.operations import bulk, charts, retry
from core.operations.models import BulkRequest, BulkResult, ChartMinute, Charts
from core.settings import settings

log = logging.getLogger("batchlab.api")

router = APIRouter(tags=["operations"])

_PROBLEM = {"content": {"application/problem+json": {}}}
_JOB_ERRORS = {401: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 410: _PROBLEM, 422: _PROBLEM,
               503: _PROBLEM}


@router.get("/jobs/bulk", include_in_schema=False)
def bulk_is_post_only() -> None:
    # Without this, GET /api/jobs/bulk would reach GET /api/jobs/{job_id} (a 422 for the
    # id "bulk"); api/methods.py leaves this route out of the path's Allow.
    raise HTTPException(405, headers={"Allow": "POST, OPTIONS"})


bulk_is_post_only.method_guard = True  # type: ignore[attr-defined]


@router.post("/jobs/{job_id}/retry", status_code=202, response_model=Job, responses=_JOB_ERRORS)
def retry_job(job_id: UUID, enqueue: EnqueueDep, key_owner: KeyOwnerDep) -> Response:
    """Retry a FAILED or CANCELLED job: QUEUED again, same JobId. Its attempts continue
    (attempt 4 after 3) and it gets its type's max attempts more; the history gets a
    QUEUED entry noted "retried". 409 for any other status, and for a dead-lettered job
    (an operator redrives it: POST /api/dlq/{jobId}/redrive)."""
    job = retry.retry_job(str(job_id), owner_id=key_owner, enqueue=enqueue)
    return job_response(job, status_code=202, headers={
        "Location": f"/api/jobs/{job.id}", "Retry-After": str(settings.retry_after_seconds)})


@router.post("/jobs/{job_id}/rerun", status_code=202, response_model=Job, responses=_JOB_ERRORS)
def rerun_job(job_id: UUID, enqueue: EnqueueDep, key_owner: KeyOwnerDep) -> Response:
    """Re-run a finished job as a NEW job with the same name, type, payload and owner
    (`Location` names it; its `rerunOf` is this job). 409 unless the job is finished,
    410 if its payload expired."""
    job = retry.rerun_job(str(job_id), owner_id=key_owner, enqueue=enqueue)
    return job_response(job, status_code=202, headers={
        "Location": f"/api/jobs/{job.id}", "Retry-After": str(settings.retry_after_seconds)})


@router.post(
    "/jobs/bulk", response_model=BulkResult,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 409: _PROBLEM, 413: _PROBLEM,
               415: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def bulk_action(request: BulkRequest, caller: CallerDep, enqueue_many: EnqueueManyDep) -> BulkResult:
    """Cancel (QUEUED, PROCESSING) or retry (FAILED, CANCELLED) every job the filter
    matches, newest first, at most `limit` (≤ 1000). `dryRun` (the default) counts and
    acts on nothing; executing needs the dry run's `matched` as `expectedCount` and is a
    409 (with the new count) if it changed. A tenant acts on its own jobs only; an
    operator on any owner's (`filter.ownerId`, or every owner's without it). Each acted
    job's history gets an entry noted "bulk cancel" or "bulk retry"."""
    owner = request.filter.owner_id
    if caller.owner is not None:
        owner = service.resolve_owner(owner, caller.owner)
    answer = bulk.run(
        flt=request.filter.to_filter(owner), action=request.action, dry_run=request.dry_run,
        limit=request.limit, expected_count=request.expected_count, enqueue_many=enqueue_many,
    )
    if not request.dry_run and caller.role == "operator":
        log.info("operator %s: bulk %s acted on %d job(s)", caller.name, request.action,
                 answer["acted"])
    return BulkResult(**answer)


@router.get("/charts", response_model=Charts,
            responses={401: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM})
def job_charts(
    caller: CallerDep, minutes: Annotated[int, Query(ge=1, le=1440)] = 60,
) -> Charts:
    """Per minute over the last `minutes` (oldest first): jobs completed and failed, the
    jobs queue's depth, and per job type the queue wait (created → first start) and run
    time (last start → finish) p50/p95. Aggregated in each worker process and written
    with its meter flush (no write per job), so the current minute lags by up to
    BATCHLAB_METER_FLUSH_SECONDS. A tenant sees its own jobs only, and no queue depth."""
    return Charts(minutes=[ChartMinute(**m) for m in charts.report(minutes=minutes,
                                                                      owner_id=caller.owner)])
