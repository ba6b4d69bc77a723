"""Job use cases: what the API's routes call. No HTTP here, no boto3 either."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from core import listing, metrics, store
from core.errors import (
    BackendUnavailable,
    IdempotencyMismatch,
    InvalidPayload,
    InvalidRequest,
    JobConflict,
    JobNotFound,
    MissingOwner,
    OwnerMismatch,
    UnknownJobType,
)
from core.job import Job, JobCreate, JobPage, JobTypeInfo
from core.job_types import REGISTRY, JobType
from core.meter import meter
from core.status import TERMINAL, JobStatus

log = logging.getLogger("batchlab.service")

Enqueue = Callable[[str], None]

# Fixed namespace: the same (owner, Idempotency-Key) always maps to the same JobId.
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d6c8e-2b8a-4c7e-9a51-3f0b7d2e9c44")


def resolve_owner(requested: str | None, key_owner: str | None) -> str:
    """The owner a request acts for: the API key's owner, else the one it names."""
    if key_owner is None:
        if requested is None:
            raise MissingOwner()
        return requested
    if requested is not None and requested != key_owner:
        raise OwnerMismatch()
    return key_owner


def with_owner(request: JobCreate, key_owner: str | None) -> JobCreate:
    return request.model_copy(update={"owner_id": resolve_owner(request.owner_id, key_owner)})


def list_job_types() -> list[JobTypeInfo]:
    return [
        JobTypeInfo(
            type=t.name, description=t.description, example=t.example, max_attempts=t.max_attempts
        )
        for t in REGISTRY.values()
    ]


def _request_hash(request: JobCreate, payload: dict) -> str:
    canonical = json.dumps(
        {"name": request.name, "type": request.type, "payload": payload, "ownerId": request.owner_id},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _validated(request: JobCreate) -> tuple[JobType, dict[str, Any]]:
    """The request's job type and its payload, validated and normalised."""
    if request.owner_id is None:
        raise MissingOwner()
    job_type = REGISTRY.get(request.type)
    if job_type is None:
        raise UnknownJobType(request.type, list(REGISTRY))
    try:
        model = job_type.payload_model.model_validate(request.payload)
    except ValidationError as exc:
        raise InvalidPayload(exc.errors(include_url=False, include_context=False)) from exc
    return job_type, model.model_dump(by_alias=True, mode="json")


def submit_job(
    *, request: JobCreate, enqueue: Enqueue, idempotency_key: str | None = None
) -> tuple[Job, bool]:
    """Validate, store the job QUEUED, send its JobId. Returns (job, created).

    Steps:
      1. look up the type and validate the payload against its schema;
      2. conditional PutItem (with an Idempotency-Key the JobId is derived from
         owner+key, so a repeat hits the condition and returns the first job);
      3. send the JobId-only message;
      4. if the send fails, delete the still-unsent job and raise
         BackendUnavailable: the client gets a 503 and no job is left QUEUED
         without a message (a retry with the same key starts clean).
    """
    job_type, payload = _validated(request)
    request_hash = None
    if idempotency_key is None:
        job_id = str(uuid.uuid4())
    else:
        job_id = str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{request.owner_id}\n{idempotency_key}"))
        request_hash = _request_hash(request, payload)
    try:
        job = store.put_job(
            job_id=job_id,
            owner_id=request.owner_id,
            name=request.name,
            type_=request.type,
            payload=payload,
            max_attempts=job_type.max_attempts,
            request_hash=request_hash,
        )
    except store.JobExists as exists:
        if request_hash is None or exists.item is None:
            raise
        if exists.item.get("RequestHash", {}).get("S") != request_hash:
            raise IdempotencyMismatch() from exists
        return store.job_from_item(exists.item), False
    try:
        enqueue(job_id)
    except Exception as exc:
        log.warning("enqueue of %s failed, removing the unsent job: %r", job_id, exc)
        store.delete_unsent_job(job_id)
        raise BackendUnavailable("the job queue is unavailable; nothing was accepted") from exc
    metrics.JOBS_CREATED.labels(request.type).inc()
    meter().count_job("created")
    return job, True


def get_job(job_id: str, *, owner_id: str | None = None) -> Job:
    """The job; with ``owner_id`` (API-key mode) another owner's job is not found."""
    job = store.get_job(job_id)
    if owner_id is not None and job.owner_id != owner_id:
        raise JobNotFound(job_id)
    return job


def list_jobs(
    *, owner_id: str, status: JobStatus | None, limit: int, cursor: str | None
) -> JobPage:
    return listing.list_jobs(owner_id=owner_id, status=status, limit=limit, cursor=cursor)


def cancel_job(job_id: str, *, owner_id: str | None = None) -> Job:
    if owner_id is not None:
        get_job(job_id, owner_id=owner_id)
    result = store.cancel_job(job_id)
    if result.ok:
        return store.job_from_item(result.item)
    if result.item is None:
        raise JobNotFound(job_id)
    status = JobStatus(result.item["Status"]["S"])
    if status in TERMINAL:
        raise JobConflict(f"the job is already {status.value}")
    raise JobConflict(f"the job changed state ({status.value}); try again")


EnqueueMany = Callable[[list[str]], list[str]]


def submit_batch(
    *, jobs: list[dict[str, Any]], key_owner: str | None, enqueue_many: EnqueueMany
) -> list[Job | Exception]:
    """Submit many jobs at once; returns, per input, the Job or the error it got.

    Steps:
      1. validate each job on its own: a bad job is reported alone, the rest go on;
      2. BatchWriteItem the valid ones (25 per request), all QUEUED;
      3. SendMessageBatch their JobIds (10 per request);
      4. delete the jobs whose message SQS refused; they report BackendUnavailable.
    A failure of step 2 removes what it may have written and fails the whole batch.
    """
    outcomes: list[Job | Exception | None] = [None] * len(jobs)
    prepared: list[tuple[int, dict[str, Any]]] = []
    for i, raw in enumerate(jobs):
        try:
            request = with_owner(JobCreate.model_validate(raw), key_owner)
            job_type, payload = _validated(request)
        except ValidationError as exc:
            outcomes[i] = InvalidRequest(exc.errors(include_url=False, include_context=False))
        except (UnknownJobType, InvalidPayload, MissingOwner, OwnerMismatch) as exc:
            outcomes[i] = exc
        else:
            prepared.append((i, {
                "job_id": str(uuid.uuid4()),
                "owner_id": request.owner_id,
                "name": request.name,
                "type_": request.type,
                "payload": payload,
                "max_attempts": job_type.max_attempts,
            }))
    if prepared:
        try:
            created = store.put_jobs([values for _, values in prepared])
        except Exception as exc:
            store.delete_unsent_jobs([values["job_id"] for _, values in prepared])
            raise BackendUnavailable("the job store is unavailable; nothing was accepted") from exc
        refused = set(enqueue_many([job.id for job in created]))
        if refused:
            log.warning("%d batch message(s) refused; removing their jobs", len(refused))
            store.delete_unsent_jobs(sorted(refused))
        for (i, _), job in zip(prepared, created, strict=True):
            if job.id in refused:
                outcomes[i] = BackendUnavailable("the job queue refused this job's message")
            else:
                outcomes[i] = job
                metrics.JOBS_CREATED.labels(job.type).inc()
                meter().count_job("created")
    return outcomes  # type: ignore[return-value]
