"""DynamoDB access for jobs: the hot item's writes and reads (plain keyword-only functions).

The hot item's shape is in core/jobs/hot.py, where payloads and results live in
core/jobs/jobdata.py, and its status changes in core/jobs/transitions.py and
core/jobs/requeue.py (re-exported here, so callers keep using ``store.start_job`` etc.).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from core.aws import client
from core.errors import JobNotFound, JobTooLarge
from core.jobs import jobdata
from core.jobs.hot import encode_json, marshal, new_hot_item, now_iso, times_of, unmarshal
from core.jobs.job import HistoryEntry, Job, JobSummary
from core.jobs.requeue import requeue_dead_letter  # noqa: F401 - re-exported
from core.jobs.status import JobStatus
from core.jobs.transitions import (  # noqa: F401 - re-exported: the store's public surface
    TransitionResult,
    cancel_job,
    complete_job,
    fail_abandoned,
    fail_job,
    retry_job,
    start_job,
)
from core.jobs.transitions import is_validation_error as _is_validation_error
from core.settings import settings
from core.storage import objects
from core.storage.item_size import MAX_ITEM_BYTES, item_size

log = logging.getLogger("batchlab.store")

# Old names, kept for the modules that import them (core/jobs/listing.py).
_marshal, _unmarshal = marshal, unmarshal
__all__ = ["encode_json", "now_iso"]


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# --- mapping -----------------------------------------------------------------


def _summary_fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["JobId"],
        "name": raw["Name"],
        "type": raw["Type"],
        # A batch's child keeps its owner apart (BatchOwnerId), out of the owner index.
        "owner_id": raw.get("OwnerId") or raw["BatchOwnerId"],
        "status": raw["Status"],
        "created_at": raw["CreatedAt"],
        "started_at": raw.get("StartedAt"),
        "finished_at": raw.get("FinishedAt"),
        "attempts": int(raw.get("Attempts", 0)),
        "max_attempts": int(raw["MaxAttempts"]),
        "progress": int(raw.get("Progress", 0)),
        "error": raw.get("LastError"),
        **times_of(raw),
    }


def job_from_item(
    item: dict[str, Any], *, result: dict[str, Any] | None = None, result_url: str | None = None
) -> Job:
    """The job of a hot item. The payload comes with it only when it is inline (else
    ``payloadBytes`` says how large it is, and GET /api/jobs/{id}/payload reads it);
    ``result``/``result_url`` are what the caller read or signed (core.jobs.service)."""
    raw = _unmarshal(item)
    return Job(
        **_summary_fields(raw),
        payload=json.loads(raw["Payload"]) if "Payload" in raw else None,
        payload_bytes=int(raw["PayloadBytes"]) if "PayloadBytes" in raw else None,
        result=json.loads(raw["Result"]) if "Result" in raw else result,
        result_bytes=int(raw["ResultBytes"]) if "ResultBytes" in raw else None,
        result_url=result_url,
        history=[HistoryEntry(status=h["Status"], at=h["At"], note=h.get("Note"))
                 for h in raw.get("History", [])],
        rerun_of=raw.get("RerunOf"),
        history_count=int(raw.get("HistoryCount", len(raw.get("History", [])))),
    )


def summary_from_item(item: dict[str, Any]) -> JobSummary:
    return JobSummary(**_summary_fields(_unmarshal(item)))


# --- create / read -----------------------------------------------------------


class JobExists(Exception):
    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("a job with this id exists")
        self.item = item


@dataclass(frozen=True)
class NewJob:
    """A new QUEUED job: its hot item (marshalled) and its payload's placement."""

    item: dict[str, Any]
    payload: jobdata.Placed

    @property
    def job_id(self) -> str:
        return self.item["JobId"]["S"]


def new_job(
    *,
    job_id: str,
    owner_id: str,
    name: str,
    type_: str,
    payload: dict[str, Any],
    max_attempts: int,
    request_hash: bytes | None = None,
    rerun_of: str | None = None,
) -> NewJob:
    """A new QUEUED job's hot item and where its payload goes (inline if the hot item
    has room for it, else a data item or S3: core/jobs/jobdata.py)."""
    fields = dict(job_id=job_id, owner_id=owner_id, name=name, type_=type_,
                  max_attempts=max_attempts, request_hash=request_hash, rerun_of=rerun_of)
    bare = new_hot_item(**fields, payload_values={})
    placed = jobdata.place_payload(job_id=job_id, payload=payload, hot_without=bare)
    return NewJob(item=new_hot_item(**fields, payload_values=placed.values), payload=placed)


def _too_large(item: dict[str, Any]) -> JobTooLarge:
    return JobTooLarge(size=item_size(item), limit=MAX_ITEM_BYTES)


def put_job(*, new: NewJob) -> Job:
    """Write a new QUEUED job (from :func:`new_job`): its payload first if it goes out
    of line, then the hot item, so a worker that reads the hot item finds the payload.
    Raise JobExists (with the stored item) if the id is taken, JobTooLarge if DynamoDB
    refuses its size."""
    jobdata.write(new.payload)
    try:
        client("dynamodb").put_item(
            TableName=settings.table_name,
            Item=new.item,
            ConditionExpression="attribute_not_exists(JobId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _is_conditional_failure(exc):
            raise JobExists(exc.response.get("Item")) from exc
        if _is_validation_error(exc):
            raise _too_large(new.item) from exc
        raise
    return job_from_item(new.item)


def _batch_write_chunk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One BatchWriteItem of ≤ 25 puts, retrying unprocessed items with backoff;
    returns the items still unwritten."""
    pending = {settings.table_name: [{"PutRequest": {"Item": item}} for item in items]}
    for attempt in range(8):
        resp = client("dynamodb").batch_write_item(RequestItems=pending)
        pending = resp.get("UnprocessedItems") or {}
        if not pending:
            return []
        time.sleep(min(1.0, 0.05 * 2**attempt))  # DynamoDB throttled part of the batch
    return [r["PutRequest"]["Item"] for r in pending.get(settings.table_name, [])]


def put_jobs(news: list[NewJob]) -> list[str]:
    """Write many new QUEUED jobs (from :func:`new_job`), 25 hot items per BatchWriteItem,
    each after its payload if that goes out of line (a job whose payload write fails
    is not written).

    Returns the JobIds not written: each chunk succeeds or fails on its own. A
    chunk whose request failed may still have been applied (a timeout); its jobs
    are reported unwritten, which is no claim of success (their messages were sent
    first, so if they were stored they run). BatchWriteItem takes no condition, so
    this is only for fresh random JobIds (batch submit); an Idempotency-Key submit
    uses :func:`put_job`.
    """
    unwritten: list[str] = []
    items = []
    for new in news:
        try:
            jobdata.write(new.payload)
        except (ClientError, BotoCoreError):
            log.warning("the payload of job %s was not written", new.job_id, exc_info=True)
            unwritten.append(new.job_id)
        else:
            items.append(new.item)
    for i in range(0, len(items), 25):
        chunk = items[i : i + 25]
        try:
            left = _batch_write_chunk(chunk)
        except (ClientError, BotoCoreError):
            log.warning("BatchWriteItem of %d jobs failed", len(chunk), exc_info=True)
            left = chunk
        unwritten += [item["JobId"]["S"] for item in left]
    return unwritten


def get_item(job_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    resp = client("dynamodb").get_item(
        TableName=settings.table_name,
        Key={"JobId": {"S": job_id}},
        ConsistentRead=consistent,
    )
    return resp.get("Item")


def get_job(job_id: str) -> Job:
    """The job from its hot item (one eventually consistent GetItem: 0.5 RRU). Only a
    COMPLETED job's result costs more: one read of its data item, or none for one in
    S3 (a presigned GET URL is signed locally)."""
    item = get_item(job_id)
    if item is None:
        raise JobNotFound(job_id)
    if item["Status"]["S"] != JobStatus.COMPLETED.value:
        return job_from_item(item)
    key = jobdata.result_object_key(item)
    url = None if key is None else objects.presigned_get(key, filename=f"{job_id}-result.json")
    return job_from_item(item, result=jobdata.load_result(item), result_url=url)


def get_payload(job_id: str) -> dict[str, Any]:
    item = get_item(job_id)
    if item is None:
        raise JobNotFound(job_id)
    return jobdata.load_payload(item)


def renew_lease(job_id: str, *, attempt: int, lease_seconds: int, progress: int | None) -> bool:
    """Extend this attempt's lease (and store progress); False if the attempt lost the job."""
    names = {"#s": "Status"}
    values: dict[str, Any] = {
        ":p": JobStatus.PROCESSING.value,
        ":attempt": attempt,
        ":lease": int(time.time()) + lease_seconds,
    }
    expression = "SET LeaseExpiresAt = :lease"
    if progress is not None:
        expression += ", Progress = :progress"
        values[":progress"] = progress
    try:
        client("dynamodb").update_item(
            TableName=settings.table_name,
            Key={"JobId": {"S": job_id}},
            UpdateExpression=expression,
            ConditionExpression="#s = :p AND Attempts = :attempt",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=marshal(values),
        )
    except ClientError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True
