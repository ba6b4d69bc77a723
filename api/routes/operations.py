"""Operating on jobs (issue 15): retry, re-run, bulk actions by filter, and charts."""

from __future__ import annotations

import logging
from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import CallerDep, EnqueueDep, EnqueueManyDep, KeyOwnerDep
from api.routes.jobs import job_response
from core import service
from core.job import Job
from core.operations import bulk, retry
from core.operations.models import BulkRequest, BulkResult
from core.settings import settings

log = logging.getLogger("batchlab.api")

router = APIRouter(tags=["operations"])

_PROBLEM = {"content": {"application/problem+json": {}}}
_JOB_ERRORS = {401: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 410: _PROBLEM, 422: _PROBLEM,
               503: _PROBLEM}


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
    responses={401: _PROBLEM, 403: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
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
