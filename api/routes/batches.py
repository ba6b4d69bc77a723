"""/api/batches (issue 14): submit, follow, list, cancel, retry-failed, results."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from api.deps import KeyOwnerDep
from core.batches import service
from core.batches.model import Batch, BatchCreate, BatchPage
from core.jobs import service as job_service
from core.jobs.job import OWNER_PATTERN
from core.settings import settings

router = APIRouter(prefix="/batches", tags=["batches"])

_PROBLEM = {"content": {"application/problem+json": {}}}
_READ = {401: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM}

_CREATED_LINKS = {
    "getBatch": {"operationId": "get_batch", "parameters": {"batch_id": "$response.body#/id"},
                 "description": "Follow the batch until it has ended."},
    "cancelBatch": {"operationId": "cancel_batch",
                    "parameters": {"batch_id": "$response.body#/id"},
                    "description": "Cancel the batch's unfinished children."},
    "batchResults": {"operationId": "get_batch_results",
                     "parameters": {"batch_id": "$response.body#/id"},
                     "description": "Its results, one JSON line per item."},
    "retryFailed": {"operationId": "retry_failed_batch",
                    "parameters": {"batch_id": "$response.body#/id"},
                    "description": "Queue its FAILED children again."},
    "listBatches": {"operationId": "list_batches",
                    "parameters": {"ownerId": "$response.body#/ownerId"},
                    "description": "The owner's batches, newest first."},
}


def _json(batch: Batch, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(batch.model_dump_json(by_alias=True), status_code=status_code,
                    media_type="application/json",
                    headers={"Cache-Control": "no-store", **(headers or {})})


@router.post(
    "",
    status_code=202,
    response_model=Batch,
    responses={202: {"description": "Accepted: the batch is RUNNING (`Location` names it).",
                     "links": _CREATED_LINKS},
               400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM,
               422: _PROBLEM, 503: _PROBLEM},
)
def create_batch(
    request: BatchCreate,
    key_owner: KeyOwnerDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128)] = None,
) -> Response:
    """Submit many items of one type as a batch: inline `items` (up to
    BATCHLAB_BATCH_MAX_INLINE_ITEMS) or an uploaded `object` (JSON Lines or CSV, from
    POST /api/uploads). Each valid item becomes one job; invalid ones are listed in
    `invalid` with their line (or, with `allOrNothing`, refuse the batch: 422 inline,
    CANCELLED for a file)."""
    batch, created = service.submit(request=request, key_owner=key_owner,
                                    idempotency_key=idempotency_key)
    headers = {"Location": f"/api/batches/{batch.id}",
               "Retry-After": str(settings.retry_after_seconds)}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return _json(batch, status_code=202, headers=headers)


@router.get("", response_model=BatchPage, responses={401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM,
                                                      503: _PROBLEM})
def list_batches(
    key_owner: KeyOwnerDep,
    owner_id: Annotated[str | None, Query(alias="ownerId", min_length=1, max_length=64,
                                          pattern=OWNER_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> BatchPage:
    owner = job_service.resolve_owner(owner_id, key_owner)
    return service.list_batches(owner_id=owner, limit=limit, cursor=cursor)


@router.get("/{batch_id}", response_model=Batch, responses=_READ)
def get_batch(batch_id: UUID, key_owner: KeyOwnerDep) -> Response:
    return _json(service.get(str(batch_id), owner_id=key_owner))


@router.post("/{batch_id}/cancel", response_model=Batch, responses={**_READ, 409: _PROBLEM})
def cancel_batch(batch_id: UUID, key_owner: KeyOwnerDep) -> Response:
    """Cancel: QUEUED children never run, running ones stop at their next check. 409 if
    the batch has ended."""
    return _json(service.cancel(str(batch_id), owner_id=key_owner))


@router.post("/{batch_id}/retry-failed", response_model=Batch, responses={**_READ, 409: _PROBLEM})
def retry_failed_batch(batch_id: UUID, key_owner: KeyOwnerDep) -> Response:
    """Queue the FAILED children again (the counts move back as they are requeued); the
    batch is RUNNING again. 409 if none failed, or the batch was cancelled."""
    return _json(service.retry_failed(str(batch_id), owner_id=key_owner))


@router.get(
    "/{batch_id}/results",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}},
                     "description": "One JSON line per item, in item order: `{index, jobId, "
                                    "status, result}` or `{index, jobId, status, error}`."},
               307: {"description": "The batch has ended: `Location` is its results file "
                                    "(a presigned S3 URL, 1 h)."},
               **_READ},
)
def get_batch_results(batch_id: UUID, key_owner: KeyOwnerDep) -> Response:
    """The results while the batch runs (children not finished show their status), and
    once it has ended a redirect to the results file in S3."""
    url, lines = service.results(str(batch_id), owner_id=key_owner)
    if url is not None:
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    return StreamingResponse(lines, media_type="application/x-ndjson",
                             headers={"Cache-Control": "no-store"})
