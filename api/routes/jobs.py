"""/api/jobs: submit, read, list, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse, RedirectResponse

from api.deps import EnqueueDep, EnqueueManyDep, KeyOwnerDep
from api.problems import PROBLEM_JSON, describe, named, problem_body
from core.jobs import service
from core.jobs.job import OWNER_PATTERN, BatchItem, BatchResult, Job, JobBatch, JobCreate, JobPage
from core.jobs.listing import JobFilter
from core.settings import settings

router = APIRouter(prefix="/jobs", tags=["jobs"])

_PROBLEM = {"content": {"application/problem+json": {}}}
_ERRORS = {400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM}


def job_response(job: Job, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The job as JSON, serialised once by pydantic. (Returned as a model, FastAPI would
    first validate it again against ``response_model``: ~5% of the CPU of a GET.)
    The routes keep ``response_model=Job`` for the OpenAPI document."""
    return Response(
        job.model_dump_json(by_alias=True),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


# OpenAPI links from a created job to what a client does next (schemathesis
# follows them in its stateful phase: create -> get, cancel, list).
_CREATED_LINKS = {
    "getJob": {"operationId": "get_job", "parameters": {"job_id": "$response.body#/id"},
               "description": "Poll the job until it is COMPLETED, FAILED or CANCELLED."},
    "cancelJob": {"operationId": "cancel_job", "parameters": {"job_id": "$response.body#/id"},
                  "description": "Cancel the job unless it has finished."},
    "listJobs": {"operationId": "list_jobs", "parameters": {"ownerId": "$response.body#/ownerId"},
                 "description": "The owner's jobs, newest first."},
}


@router.post(
    "",
    status_code=202,
    response_model=Job,
    responses={202: {"description": "Accepted: the job is QUEUED (`Location` names it).",
                     "links": _CREATED_LINKS}, **_ERRORS},
)
def submit_job(
    request: JobCreate,
    enqueue: EnqueueDep,
    key_owner: KeyOwnerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=128,
            description="Repeat a submit safely: same key and body → the same job (run once).",
        ),
    ] = None,
) -> Response:
    job, created = service.submit_job(
        request=service.with_owner(request, key_owner),
        enqueue=enqueue,
        idempotency_key=idempotency_key,
    )
    headers = {"Location": f"/api/jobs/{job.id}", "Retry-After": str(settings.retry_after_seconds)}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return job_response(job, status_code=202, headers=headers)


@router.post(
    ":batch",
    status_code=202,
    response_model=BatchResult,
    responses={**_ERRORS, 422: {"model": BatchResult, **_PROBLEM}},
)
def submit_batch(
    batch: JobBatch, enqueue_many: EnqueueManyDep, key_owner: KeyOwnerDep
) -> BatchResult | JSONResponse:
    """Submit up to 100 jobs: one SendMessageBatch per 10, then one BatchWriteItem per 25.

    Each job succeeds or fails on its own: ``results[i]`` holds the job (status 202)
    or a problem (422 invalid, 413 too large to store, 503 refused by the queue or
    store). 202 if any job was accepted; if none was, 422 problem+json with every
    job's errors (503 if the backend is why).
    """
    outcomes = service.submit_batch(
        jobs=batch.jobs, key_owner=key_owner, enqueue_many=enqueue_many
    )
    items = []
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, Job):
            items.append(BatchItem(index=i, status=202, job=outcome))
        else:
            body = describe(outcome) or problem_body(500, "an unexpected error occurred")
            items.append(BatchItem(index=i, status=body["status"], problem=body))
    accepted = sum(1 for item in items if item.job is not None)
    result = BatchResult(accepted=accepted, rejected=len(items) - accepted, results=items)
    if accepted:
        return result
    errors = [
        {"field": f"jobs.{item.index}.{e['field']}",
         "message": named(f"jobs.{item.index}.{e['field']}", e["message"].removeprefix(f"{e['field']}: "))}
        for item in items for e in (item.problem or {}).get("errors", [])
    ]
    body = problem_body(
        422, "no job of the batch was accepted; see results", slug="validation-error",
        errors=errors or None, **result.model_dump(by_alias=True, mode="json"),
    )
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


@router.get("", response_model=JobPage, responses={401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM})
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
    status: Annotated[list[str] | None, Query(
        description="QUEUED, PROCESSING, COMPLETED, FAILED or CANCELLED; repeat it or "
                    "separate with commas for several.",
    )] = None,
    type: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    name: Annotated[str | None, Query(
        min_length=1, max_length=100, description="Case-insensitive; see nameMatch.")] = None,
    name_match: Annotated[Literal["prefix", "contains"], Query(alias="nameMatch")] = "prefix",
    created_after: Annotated[datetime | None, Query(
        alias="createdAfter", description="ISO 8601; jobs created at or after it (UTC if no zone).",
    )] = None,
    created_before: Annotated[datetime | None, Query(
        alias="createdBefore", description="ISO 8601; jobs created before it (UTC if no zone).",
    )] = None,
    order: Literal["newest", "oldest"] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(
        max_length=2048,
        description="`nextCursor` of the previous page, valid only with the same filters. A page "
                    "may come back short (even empty) with a cursor: the request read "
                    "BATCHLAB_LIST_MAX_EXAMINED jobs without filling it.",
    )] = None,
) -> JobPage:
    """One owner's jobs, filtered and ordered (newest first by default), a page at a
    time. Never reads payloads or results."""
    flt = JobFilter.build(
        owner_id=service.resolve_owner(owner_id, key_owner), statuses=status, type=type,
        name=name, name_match=name_match, created_after=created_after,
        created_before=created_before, order=order,
    )
    return service.list_jobs(flt=flt, limit=limit, cursor=cursor)


@router.get("/{job_id}", response_model=Job, responses={401: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM})
def get_job(job_id: UUID, key_owner: KeyOwnerDep) -> Response:
    job = service.get_job(str(job_id), owner_id=key_owner)
    return job_response(job, headers={"Cache-Control": "no-store"})


@router.get(
    "/{job_id}/result",
    response_model=dict[str, Any],
    responses={
        307: {"description": "The result is in S3: `Location` is a presigned GET URL (1 h)."},
        401: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 410: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM,
    },
)
def get_result(job_id: UUID, key_owner: KeyOwnerDep) -> Response:
    """A COMPLETED job's result, as a JSON file download; a large one (in S3) is a
    redirect to a presigned URL. 409 if the job has no result (not COMPLETED)."""
    result, url = service.get_result(str(job_id), owner_id=key_owner)
    if url is not None:
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    return JSONResponse(result, headers={
        "Content-Disposition": f'attachment; filename="{job_id}-result.json"'})


@router.get(
    "/{job_id}/payload",
    response_model=dict[str, Any],
    responses={401: _PROBLEM, 404: _PROBLEM, 410: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def get_payload(job_id: UUID, key_owner: KeyOwnerDep) -> dict[str, Any]:
    """The job's payload, wherever it is kept (GET /api/jobs/{id} includes it only
    when it is small enough to live in the job's own item)."""
    return service.get_payload(str(job_id), owner_id=key_owner)


@router.post(
    "/{job_id}/cancel",
    response_model=Job,
    responses={401: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def cancel_job(job_id: UUID, key_owner: KeyOwnerDep) -> Job:
    return service.cancel_job(str(job_id), owner_id=key_owner)
