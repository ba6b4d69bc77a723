"""DynamoDB access for jobs: plain keyword-only functions over one table.

Every status change goes through :func:`_transition`: it checks the move with the
pure state machine first, then writes it with a conditional UpdateItem on the old
status, so check and write happen together (two writers cannot both win).

Attributes are PascalCase. Payload and Result are stored as JSON strings: their
size stays predictable (write units) and no float→Decimal juggling is needed. The
JSON is UTF-8 (``ensure_ascii=False``): escaped, one non-ASCII character costs 6 or
12 bytes of the 400 KB item instead of 2 to 4.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from core.aws import client
from core.errors import JobNotFound, JobTooLarge, ResultNotStored
from core.item_size import MAX_ITEM_BYTES, item_size
from core.job import HistoryEntry, Job, JobSummary
from core.settings import settings
from core.status import TERMINAL, JobStatus, advance

log = logging.getLogger("batchlab.store")

_ser = TypeSerializer()
_de = TypeDeserializer()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _marshal(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items()}


def _unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _history(status: JobStatus, at: str, note: str | None = None) -> list[dict[str, str]]:
    entry = {"Status": status.value, "At": at}
    if note:
        entry["Note"] = note[:500]
    return [entry]


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _is_validation_error(exc: ClientError) -> bool:
    # DynamoDB's answer to an item over 400 KB (AWS enforces it where moto may not).
    return exc.response.get("Error", {}).get("Code") == "ValidationException"


def encode_json(value: Any) -> str:
    """Compact UTF-8 JSON, as Payload and Result are stored."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- mapping -----------------------------------------------------------------


def _summary_fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["JobId"],
        "name": raw["Name"],
        "type": raw["Type"],
        "owner_id": raw["OwnerId"],
        "status": raw["Status"],
        "created_at": raw["CreatedAt"],
        "started_at": raw.get("StartedAt"),
        "finished_at": raw.get("FinishedAt"),
        "attempts": int(raw.get("Attempts", 0)),
        "max_attempts": int(raw["MaxAttempts"]),
        "progress": int(raw.get("Progress", 0)),
        "error": raw.get("LastError"),
    }


def job_from_item(item: dict[str, Any]) -> Job:
    raw = _unmarshal(item)
    return Job(
        **_summary_fields(raw),
        payload=json.loads(raw["Payload"]),
        result=json.loads(raw["Result"]) if "Result" in raw else None,
        history=[
            HistoryEntry(status=h["Status"], at=h["At"], note=h.get("Note"))
            for h in raw.get("History", [])
        ],
    )


def summary_from_item(item: dict[str, Any]) -> JobSummary:
    return JobSummary(**_summary_fields(_unmarshal(item)))


# --- create / read -----------------------------------------------------------


class JobExists(Exception):
    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("a job with this id exists")
        self.item = item


def new_job_item(
    *,
    job_id: str,
    owner_id: str,
    name: str,
    type_: str,
    payload: dict[str, Any],
    max_attempts: int,
    request_hash: str | None = None,
) -> dict[str, Any]:
    """The marshalled item of a new QUEUED job: what :func:`put_job` / :func:`put_jobs`
    write, and what the submit path measures (core.item_size) before sending anything."""
    created = now_iso()
    values = {
        "JobId": job_id,
        "OwnerId": owner_id,
        "Name": name,
        "Type": type_,
        "Payload": encode_json(payload),
        "Status": JobStatus.QUEUED.value,
        "CreatedAt": created,
        "Attempts": 0,
        "MaxAttempts": max_attempts,
        "Progress": 0,
        "History": _history(JobStatus.QUEUED, created),
        "ExpiresAt": int(time.time() + settings.job_ttl_hours * 3600),
    }
    if request_hash:
        values["RequestHash"] = request_hash
    return _marshal(values)


def _too_large(item: dict[str, Any]) -> JobTooLarge:
    return JobTooLarge(size=item_size(item), limit=MAX_ITEM_BYTES)


def put_job(*, item: dict[str, Any]) -> Job:
    """Write a new QUEUED job (from :func:`new_job_item`); raise JobExists (with the
    stored item) if the id is taken, JobTooLarge if DynamoDB refuses its size."""
    try:
        client("dynamodb").put_item(
            TableName=settings.table_name,
            Item=item,
            ConditionExpression="attribute_not_exists(JobId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _is_conditional_failure(exc):
            raise JobExists(exc.response.get("Item")) from exc
        if _is_validation_error(exc):
            raise _too_large(item) from exc
        raise
    return job_from_item(item)


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


def put_jobs(items: list[dict[str, Any]]) -> list[str]:
    """Write many new QUEUED jobs (from :func:`new_job_item`), 25 per BatchWriteItem.

    Returns the JobIds not written: each chunk succeeds or fails on its own. A
    chunk whose request failed may still have been applied (a timeout); its jobs
    are reported unwritten, which is no claim of success (their messages were sent
    first, so if they were stored they run). BatchWriteItem takes no condition, so
    this is only for fresh random JobIds (batch submit); an Idempotency-Key submit
    uses :func:`put_job`.
    """
    unwritten: list[str] = []
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
    item = get_item(job_id)
    if item is None:
        raise JobNotFound(job_id)
    return job_from_item(item)


# --- transitions -------------------------------------------------------------


@dataclass(frozen=True)
class TransitionResult:
    ok: bool
    item: dict[str, Any] | None  # new item if ok, old item (or None if missing) if not


def _transition(
    job_id: str,
    *,
    from_: tuple[JobStatus, ...],
    to: JobStatus,
    set_values: dict[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    extra_condition: str | None = None,
    extra_values: dict[str, Any] | None = None,
    increment_attempts: bool = False,
    note: str | None = None,
) -> TransitionResult:
    """Move a job from one of ``from_`` to ``to`` in one conditional write.

    Steps:
      1. check every ``from_ → to`` against the state machine (raises InvalidTransition);
      2. UpdateItem: set Status, append to History, apply ``set_values``/``remove``,
         conditional on the current Status being one of ``from_`` (and ``extra_condition``);
      3. on a failed condition, return the old item so the caller can tell why.
    """
    for current in from_:
        advance(current, to)
    at = now_iso()
    names = {"#s": "Status"}
    values: dict[str, Any] = {":to": to.value, ":h": _history(to, at, note)}
    sets = ["#s = :to", "History = list_append(History, :h)"]
    for i, (attr, value) in enumerate((set_values or {}).items()):
        names[f"#a{i}"] = attr
        values[f":v{i}"] = value
        sets.append(f"#a{i} = :v{i}")
    adds = []
    if increment_attempts:
        adds.append("Attempts :one")
    if to in TERMINAL:
        # Counts terminal writes: the fault benchmark checks it is exactly 1 per job.
        adds.append("TerminalWrites :one")
    if adds:
        values[":one"] = 1
    from_keys = []
    for i, status in enumerate(from_):
        values[f":f{i}"] = status.value
        from_keys.append(f":f{i}")
    condition = f"#s IN ({', '.join(from_keys)})"
    if extra_condition:
        condition = f"({condition}) AND ({extra_condition})"
        values.update(extra_values or {})
    expression = "SET " + ", ".join(sets)
    if adds:
        expression += " ADD " + ", ".join(adds)
    if remove:
        names.update({f"#r{i}": attr for i, attr in enumerate(remove)})
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    try:
        resp = client("dynamodb").update_item(
            TableName=settings.table_name,
            Key={"JobId": {"S": job_id}},
            UpdateExpression=expression,
            ConditionExpression=f"attribute_exists(JobId) AND {condition}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_marshal(values),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _is_conditional_failure(exc):
            return TransitionResult(ok=False, item=exc.response.get("Item"))
        raise
    return TransitionResult(ok=True, item=resp["Attributes"])


def start_job(job_id: str, *, lease_seconds: int) -> TransitionResult:
    """QUEUED → PROCESSING, or take over a PROCESSING job whose holder is dead.

    A holder is shown dead only by its lease running out: the heartbeat renews
    it every third of ``lease_seconds`` while the handler runs. A redelivery of
    the message proves nothing (SQS standard queues deliver duplicates), so it
    never takes a job from a live holder (issue 12, item 17). A take-over is
    also refused once the job has had MaxAttempts starts; the caller then ends
    it (:func:`fail_abandoned`). The incremented Attempts is the attempt's
    token: every later write of an attempt is conditional on it, so a worker
    that lost the job can never write its terminal state.
    """
    now = int(time.time())
    return _transition(
        job_id,
        from_=(JobStatus.QUEUED, JobStatus.PROCESSING),
        to=JobStatus.PROCESSING,
        set_values={"StartedAt": now_iso(), "LeaseExpiresAt": now + lease_seconds, "Progress": 0},
        # A PROCESSING item always has a lease; "not exists" only guards against a
        # job that no delivery could ever start again (each would be held forever).
        extra_condition="#s = :fq OR ((attribute_not_exists(LeaseExpiresAt) OR "
        "LeaseExpiresAt < :now) AND Attempts < MaxAttempts)",
        extra_values={":fq": JobStatus.QUEUED.value, ":now": now},
        increment_attempts=True,
    )


def fail_abandoned(job_id: str, *, attempt: int, error: str) -> TransitionResult:
    """PROCESSING whose holder died (lease expired) with no attempts left → FAILED, dead-lettered.

    Conditional on the attempt number and the expired lease, so exactly one
    delivery wins and a live holder is never failed.
    """
    return _transition(
        job_id,
        from_=(JobStatus.PROCESSING,),
        to=JobStatus.FAILED,
        set_values={"FinishedAt": now_iso(), "LastError": error[:2000], "DeadLettered": True},
        remove=("LeaseExpiresAt",),
        extra_condition="Attempts = :attempt AND LeaseExpiresAt < :now",
        extra_values={":attempt": attempt, ":now": int(time.time())},
        note=error,
    )


def _attempt_condition(attempt: int) -> tuple[str, dict[str, Any]]:
    return "Attempts = :attempt", {":attempt": attempt}


def _completed_size(item: dict[str, Any], set_values: dict[str, Any], remove: tuple[str, ...]) -> int:
    """The size the job's item would have after :func:`complete_job`'s update."""
    after = {k: v for k, v in item.items() if k not in remove}
    after.update(_marshal(set_values))
    entry = _marshal({"h": _history(JobStatus.COMPLETED, now_iso())})["h"]["L"]
    after["History"] = {"L": item.get("History", {"L": []})["L"] + entry}
    after["TerminalWrites"] = {"N": str(int(item.get("TerminalWrites", {"N": "0"})["N"]) + 1)}
    return item_size(after)


def complete_job(
    job_id: str, *, attempt: int, result: dict[str, Any], item: dict[str, Any]
) -> TransitionResult:
    """PROCESSING (this attempt) → COMPLETED with its result.

    ``item`` is the job's item as this attempt started it (start_job's answer): the
    item's size after the update is computed from it first, so a result that cannot
    fit raises ResultNotStored before anything is written, and so does DynamoDB's
    own refusal (ValidationException; AWS enforces 400 KB where moto may not). The
    caller then ends the job FAILED with that reason: a job never says COMPLETED
    without its result.
    """
    set_values = {"FinishedAt": now_iso(), "Result": encode_json(result), "Progress": 100}
    remove = ("LeaseExpiresAt", "LastError")
    size = _completed_size(item, set_values, remove)
    if size > MAX_ITEM_BYTES:
        raise ResultNotStored(
            f"the result was not stored: it takes {len(set_values['Result'].encode())} bytes, "
            f"which would make the job's item {size} bytes, over DynamoDB's item limit of "
            f"{MAX_ITEM_BYTES} bytes"
        )
    cond, vals = _attempt_condition(attempt)
    try:
        return _transition(
            job_id,
            from_=(JobStatus.PROCESSING,),
            to=JobStatus.COMPLETED,
            set_values=set_values,
            remove=remove,
            extra_condition=cond,
            extra_values=vals,
        )
    except ClientError as exc:
        if not _is_validation_error(exc):
            raise
        message = exc.response.get("Error", {}).get("Message", "")
        raise ResultNotStored(
            f"the result was not stored: DynamoDB refused it ({message}); the job's item "
            f"would be about {size} bytes, DynamoDB's item limit is {MAX_ITEM_BYTES} bytes"
        ) from exc


def fail_job(job_id: str, *, attempt: int | None, error: str) -> TransitionResult:
    """PROCESSING (this attempt) → FAILED; with ``attempt=None`` also from QUEUED (DLQ)."""
    if attempt is None:
        return _transition(
            job_id,
            from_=(JobStatus.QUEUED, JobStatus.PROCESSING),
            to=JobStatus.FAILED,
            set_values={"FinishedAt": now_iso(), "LastError": error[:2000], "DeadLettered": True},
            remove=("LeaseExpiresAt",),
            note=error,
        )
    cond, vals = _attempt_condition(attempt)
    return _transition(
        job_id,
        from_=(JobStatus.PROCESSING,),
        to=JobStatus.FAILED,
        set_values={"FinishedAt": now_iso(), "LastError": error[:2000]},
        remove=("LeaseExpiresAt",),
        extra_condition=cond,
        extra_values=vals,
        note=error,
    )


def retry_job(job_id: str, *, attempt: int, error: str) -> TransitionResult:
    """PROCESSING → QUEUED after a failed attempt that will be retried."""
    cond, vals = _attempt_condition(attempt)
    return _transition(
        job_id,
        from_=(JobStatus.PROCESSING,),
        to=JobStatus.QUEUED,
        set_values={"LastError": error[:2000]},
        remove=("LeaseExpiresAt",),
        extra_condition=cond,
        extra_values=vals,
        note=error,
    )


def cancel_job(job_id: str) -> TransitionResult:
    return _transition(
        job_id,
        from_=(JobStatus.QUEUED, JobStatus.PROCESSING),
        to=JobStatus.CANCELLED,
        set_values={"FinishedAt": now_iso()},
        remove=("LeaseExpiresAt",),
    )


def requeue_dead_letter(job_id: str) -> TransitionResult:
    """FAILED (dead-lettered) → QUEUED, for a redrive: a fresh start.

    Attempts restart at 0 (the job gets MaxAttempts new attempts), and the old
    outcome goes (LastError, FinishedAt, StartedAt); the history keeps it.
    """
    return _transition(
        job_id,
        from_=(JobStatus.FAILED,),
        to=JobStatus.QUEUED,
        set_values={"Attempts": 0, "Progress": 0},
        remove=("FinishedAt", "StartedAt", "LastError", "DeadLettered"),
        extra_condition="DeadLettered = :true",
        extra_values={":true": True},
        note="redriven from the dead-letter queue",
    )


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
            ExpressionAttributeValues=_marshal(values),
        )
    except ClientError as exc:
        if _is_conditional_failure(exc):
            return False
        raise
    return True
