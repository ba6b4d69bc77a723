"""/api/jobs: submit, read, list, cancel."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response

from api.deps import EnqueueDep, KeyOwnerDep
from core import service
from core.job import OWNER_PATTERN, Job, JobCreate, JobPage
from core.settings import settings
from core.status import JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"])

_PROBLEM = {"content": {"application/problem+json": {}}}
_ERRORS = {400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM}


@router.post("", status_code=202, response_model=Job, responses=_ERRORS)
def submit_job(
    request: JobCreate,
    response: Response,
    enqueue: EnqueueDep,
    key_owner: KeyOwnerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=128,
            description="Repeat a submit safely: same key and body → the same job, no second message.",
        ),
    ] = None,
) -> Job:
    job, created = service.submit_job(
        request=service.with_owner(request, key_owner),
        enqueue=enqueue,
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"/api/jobs/{job.id}"
    response.headers["Retry-After"] = str(settings.retry_after_seconds)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return job


@router.get("", response_model=JobPage, responses={422: _PROBLEM, 503: _PROBLEM})
def list_jobs(
    key_owner: KeyOwnerDep,
    owner_id: Annotated[
        str | None,
        Query(
            alias="ownerId",
            min_length=1,
            max_length=64,
            pattern=OWNER_PATTERN,
            description="Required in open mode; in API-key mode it defaults to the key's owner.",
        ),
    ] = None,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> JobPage:
    owner = service.resolve_owner(owner_id, key_owner)
    return service.list_jobs(owner_id=owner, status=status, limit=limit, cursor=cursor)


@router.get("/{job_id}", response_model=Job, responses={404: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM})
def get_job(job_id: UUID, response: Response, key_owner: KeyOwnerDep) -> Job:
    response.headers["Cache-Control"] = "no-store"
    return service.get_job(str(job_id), owner_id=key_owner)


@router.post(
    "/{job_id}/cancel",
    response_model=Job,
    responses={404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def cancel_job(job_id: UUID, key_owner: KeyOwnerDep) -> Job:
    return service.cancel_job(str(job_id), owner_id=key_owner)
