"""Job use cases: what the API's routes call. No HTTP here, no boto3 either."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from core.cost.meter import meter
from core.errors import (
    BackendUnavailable,
    IdempotencyMismatch,
    InvalidPayload,
    InvalidRequest,
    JobConflict,
    JobNotFound,
    JobTooLarge,
    MissingOwner,
    OwnerMismatch,
    UnknownJobType,
)
from core.jobs import jobdata, listing, store
from core.jobs.job import Job, JobCreate, JobPage, JobTypeInfo
from core.jobs.job_types import REGISTRY, JobType
from core.jobs.status import TERMINAL, JobStatus
from core.operations import metrics
from core.settings import settings
from core.storage import objects, uploads
from core.storage.item_size import item_size

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


def _request_hash(request: JobCreate, payload: dict) -> bytes:
    canonical = json.dumps(
        {"name": request.name, "type": request.type, "payload": payload, "ownerId": request.owner_id},
        sort_keys=True,
        separators=(",", ":"),
    )
    # 16 bytes (Binary) rather than 64 hex characters: it lives in the < 1 KB hot item,
    # and 128 bits tell two bodies apart as well as 256 do.
    return hashlib.sha256(canonical.encode()).digest()[:16]


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
    for field in job_type.uploads:  # an uploaded object: the owner's own, and there
        key = getattr(model, field)
        if key is not None:
            uploads.check_reference(key=key, owner_id=request.owner_id, field=field)
    # exclude_none: an optional field left out (csv-summary's csv or object) stays out.
    return job_type, model.model_dump(by_alias=True, mode="json", exclude_none=True)


def _checked_size(new: store.NewJob, *, index: int | None = None) -> store.NewJob:
    """The job, if its hot item and its payload as stored fit the budget
    (``max_job_item_bytes``); JobTooLarge (a 413) if not."""
    size = item_size(new.item) + len(new.payload.data or b"")
    if size > settings.max_job_item_bytes:
        raise JobTooLarge(size=size, limit=settings.max_job_item_bytes, index=index)
    return new


def submit_job(
    *, request: JobCreate, enqueue: Enqueue, idempotency_key: str | None = None,
    rerun_of: str | None = None,
) -> tuple[Job, bool]:
    """Validate, send the JobId, store the job QUEUED. Returns (job, created).

    Sent before stored (README, "Delivery guarantees"), so a stored job always has
    a message, whatever instant the API dies:
      1. look up the type, validate the payload, build the item and check its size
         (JobTooLarge: it could never be stored);
      2. send the JobId-only message (if SQS refuses: 503, nothing stored);
      3. conditional PutItem (with an Idempotency-Key the JobId is derived from
         owner+key, so a repeat hits the condition and returns the first job, which
         the message just sent runs if it never got one; otherwise the worker sees
         a duplicate). If the put fails the client gets a 503 and the worker drops
         the message once it is older than ``dispatch_grace_seconds``.
    """
    job_type, payload = _validated(request)
    request_hash = None
    if idempotency_key is None:
        job_id = str(uuid.uuid4())
    else:
        job_id = str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{request.owner_id}\n{idempotency_key}"))
        request_hash = _request_hash(request, payload)
    new = _checked_size(store.new_job(
        job_id=job_id,
        owner_id=request.owner_id,
        name=request.name,
        type_=request.type,
        payload=payload,
        max_attempts=job_type.max_attempts,
        request_hash=request_hash,
        rerun_of=rerun_of,
    ))
    try:
        enqueue(job_id)
    except Exception as exc:
        log.warning("enqueue of %s failed; nothing stored: %r", job_id, exc)
        raise BackendUnavailable("the job queue is unavailable; nothing was accepted") from exc
    try:
        job = store.put_job(new=new)
    except store.JobExists as exists:
        if request_hash is None or exists.item is None:
            raise
        if exists.item.get("RequestHash", {}).get("B") != request_hash:
            raise IdempotencyMismatch() from exists
        return store.job_from_item(exists.item), False
    metrics.JOBS_CREATED.labels(request.type).inc()
    meter().count_job("created")
    return job, True


def get_job(job_id: str, *, owner_id: str | None = None) -> Job:
    """The job; with ``owner_id`` (API-key mode) another owner's job is not found."""
    job = store.get_job(job_id)
    if owner_id is not None and job.owner_id != owner_id:
        raise JobNotFound(job_id)
    return job


def _own_item(job_id: str, owner_id: str | None) -> dict[str, Any]:
    item = store.get_item(job_id)
    owner = (item or {}).get("OwnerId") or (item or {}).get("BatchOwnerId")  # a batch's child
    if item is None or (owner_id is not None and owner["S"] != owner_id):
        raise JobNotFound(job_id)
    return item


def get_payload(job_id: str, *, owner_id: str | None = None) -> dict[str, Any]:
    """The job's payload, wherever it is kept (a read of the hot item, then of the data)."""
    return jobdata.load_payload(_own_item(job_id, owner_id))


def get_result(job_id: str, *, owner_id: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """A COMPLETED job's result: (result, None) if DynamoDB holds it, (None, presigned
    GET URL) if S3 does; JobConflict for a job that has no result (yet)."""
    item = _own_item(job_id, owner_id)
    status = item["Status"]["S"]
    if status != JobStatus.COMPLETED.value:
        raise JobConflict(f"the job is {status}; only a COMPLETED job has a result")
    key = jobdata.result_object_key(item)
    if key is not None:
        return None, objects.presigned_get(key, filename=f"{job_id}-result.json")
    return jobdata.load_result(item), None


def list_jobs(
    *, owner_id: str | None = None, status: JobStatus | None = None, limit: int,
    cursor: str | None, flt: listing.JobFilter | None = None,
) -> JobPage:
    """One owner's jobs: ``flt`` (core.jobs.listing), or just an owner and a status."""
    if flt is None:
        if owner_id is None:
            raise MissingOwner()
        flt = listing.JobFilter(owner_id=owner_id, statuses=frozenset({status} if status else ()))
    return listing.list_jobs(flt=flt, limit=limit, cursor=cursor)


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

    Steps (sent before stored, as :func:`submit_job`):
      1. validate each job on its own and check its stored size: a bad or
         too-large job is reported alone (422 / 413), the rest go on;
      2. SendMessageBatch the valid ones' JobIds (10 per request); a job whose
         message SQS refused is not written and reports BackendUnavailable;
      3. BatchWriteItem the sent ones (25 per request); a job whose chunk failed
         reports BackendUnavailable (its message is dropped by the worker after
         the grace, or runs it if the write did land).
    If no job was accepted and some failed only for the backend, the whole batch
    is a 503 (BackendUnavailable) so the client retries it.
    """
    outcomes: list[Job | Exception | None] = [None] * len(jobs)
    prepared: list[tuple[int, store.NewJob]] = []
    for i, raw in enumerate(jobs):
        try:
            request = with_owner(JobCreate.model_validate(raw), key_owner)
            job_type, payload = _validated(request)
            new = _checked_size(store.new_job(
                job_id=str(uuid.uuid4()),
                owner_id=request.owner_id,
                name=request.name,
                type_=request.type,
                payload=payload,
                max_attempts=job_type.max_attempts,
            ), index=i)
        except ValidationError as exc:
            outcomes[i] = InvalidRequest(exc.errors(include_url=False, include_context=False))
        except (UnknownJobType, InvalidPayload, MissingOwner, OwnerMismatch, JobTooLarge) as exc:
            outcomes[i] = exc
        else:
            prepared.append((i, new))
    if prepared:
        refused = set(enqueue_many([new.job_id for _, new in prepared]))
        if refused:
            log.warning("%d batch message(s) refused; their jobs are not stored", len(refused))
        sent = [new for _, new in prepared if new.job_id not in refused]
        unwritten = set(store.put_jobs(sent)) if sent else set()
        for i, new in prepared:
            job_id = new.job_id
            if job_id in refused:
                outcomes[i] = BackendUnavailable("the job queue refused this job's message")
            elif job_id in unwritten:
                outcomes[i] = BackendUnavailable("the job store did not take this job")
            else:
                job = store.job_from_item(new.item)
                outcomes[i] = job
                metrics.JOBS_CREATED.labels(job.type).inc()
                meter().count_job("created")
        if len(refused) + len(unwritten) == len(prepared) and not any(
            isinstance(o, Job) for o in outcomes
        ):
            raise BackendUnavailable("the job store or queue is unavailable; nothing was accepted")
    return outcomes  # type: ignore[return-value]
