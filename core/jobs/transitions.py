"""Status changes of the hot item (core/jobs/hot.py), each one conditional write.

Every change goes through :func:`_transition`: it checks the move with the pure
state machine first, then writes it with a conditional UpdateItem on the old
status, so check and write happen together (two writers cannot both win).

History stays bounded: the last ``HISTORY_KEEP`` transitions plus ``HistoryCount``.
A writer that knows the item (the worker: start_job's answer) sets the trimmed list
outright, pinned by ``HistoryCount``; one that does not appends, on condition that
the list has room. When only the history condition stopped a write (a full list, or
another writer's change in between) and the status still allows the move, it tries
again with the item DynamoDB returned, up to ``HISTORY_RETRIES`` writes in all.

The moves from an end back to QUEUED (retry, redrive, retry-failed) are in
core/jobs/requeue.py; the lease renewal, which changes no status, in core/jobs/store.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from core.aws import client
from core.errors import ResultNotStored
from core.jobs.hot import (
    HISTORY_KEEP,
    error_room,
    history_entry,
    marshal,
    now_iso,
    truncate_utf8,
    unmarshal,
)
from core.jobs.status import TERMINAL, JobStatus, advance
from core.operations import charts
from core.settings import settings
from core.storage.item_size import MAX_ITEM_BYTES, item_size


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def is_validation_error(exc: ClientError) -> bool:
    # DynamoDB's answer to an item over 400 KB (AWS enforces it where moto may not).
    return exc.response.get("Error", {}).get("Code") == "ValidationException"


# Writes one transition may take when other writers keep changing the history in
# between. Each retry follows a real change by someone else (a worker's start, retry
# or finish), and a job has few such changes in flight at once, so a handful is enough
# to never turn a valid move into "the job changed state" (issue 15's cancel after retry).
HISTORY_RETRIES = 6


@dataclass(frozen=True)
class TransitionResult:
    ok: bool
    item: dict[str, Any] | None  # new item if ok, old item (or None if missing) if not


def _history_update(
    entry: dict[str, str], item: dict[str, Any] | None
) -> tuple[str, str, dict[str, Any]]:
    """(SET clause, extra condition, values) that add ``entry`` to History."""
    if item is None:
        return ("History = list_append(History, :h)", "size(History) < :keep",
                {":h": [entry], ":keep": HISTORY_KEEP})
    old = [unmarshal(e["M"]) for e in item.get("History", {"L": []})["L"]]
    kept = (old + [entry])[-HISTORY_KEEP:]
    if "HistoryCount" in item:
        cond, values = "HistoryCount = :hc", {":hc": int(item["HistoryCount"]["N"])}
    else:
        cond, values = "attribute_not_exists(HistoryCount)", {}
    return "History = :h", cond, {":h": kept, **values}


def _history_blocked(old: dict[str, Any], item: dict[str, Any] | None,
                     from_: tuple[JobStatus, ...]) -> bool:
    """Whether a write refused with ``old`` (the item DynamoDB returned) failed on its
    history condition alone as far as the status goes: the move is still allowed from
    ``old``'s status, and the history is full (``item`` unknown) or not the one the
    write was pinned to. Any other refusal (status, attempt, lease) is final."""
    if JobStatus(old["Status"]["S"]) not in from_:
        return False
    if item is None:
        return len(old.get("History", {}).get("L", [])) >= HISTORY_KEEP
    return old.get("HistoryCount") != item.get("HistoryCount")


def _transition(
    job_id: str,
    *,
    from_: tuple[JobStatus, ...],
    to: JobStatus,
    item: dict[str, Any] | None = None,
    **change: Any,
) -> TransitionResult:
    """Move a job from one of ``from_`` to ``to`` in one conditional write.

    Steps:
      1. check every ``from_ → to`` against the state machine (raises InvalidTransition);
      2. UpdateItem: set Status, add to the bounded History, apply the ``change``
         (see :func:`_write`), conditional on the current Status being one of ``from_``;
      3. when only the history condition failed (:func:`_history_blocked`), again with
         the item DynamoDB returned, up to ``HISTORY_RETRIES`` writes; otherwise return
         the old item so the caller can tell why.
    """
    for current in from_:
        advance(current, to)
    old: dict[str, Any] | None = None
    for _ in range(HISTORY_RETRIES):
        try:
            resp = _write(job_id, from_=from_, to=to, item=item, **change)
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise
            old = exc.response.get("Item")
            if old is None or not _history_blocked(old, item, from_):
                return TransitionResult(ok=False, item=old)
            item = old
            continue
        if to in TERMINAL:
            _count_batch_child(resp["Attributes"])
        return TransitionResult(ok=True, item=resp["Attributes"])
    return TransitionResult(ok=False, item=old)


def _write(
    job_id: str,
    *,
    from_: tuple[JobStatus, ...],
    to: JobStatus,
    item: dict[str, Any] | None,
    set_values: dict[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    extra_condition: str | None = None,
    extra_values: dict[str, Any] | None = None,
    increment_attempts: bool = False,
    set_if_absent: dict[str, Any] | None = None,
    note: str | None = None,
    max_attempts_more: int | None = None,
) -> dict[str, Any]:
    """One conditional UpdateItem of a transition (raises ClientError when refused)."""
    at = now_iso()
    names = {"#s": "Status"}
    hist_set, hist_cond, hist_values = _history_update(history_entry(to, at, note), item)
    values: dict[str, Any] = {":to": to.value, ":one": 1, **hist_values}
    sets = ["#s = :to", hist_set]
    for i, (attr, value) in enumerate((set_values or {}).items()):
        names[f"#a{i}"] = attr
        values[f":v{i}"] = value
        sets.append(f"#a{i} = :v{i}")
    for i, (attr, value) in enumerate((set_if_absent or {}).items()):
        names[f"#c{i}"] = attr
        values[f":c{i}"] = value
        sets.append(f"#c{i} = if_not_exists(#c{i}, :c{i})")
    adds = ["HistoryCount :one"]
    if increment_attempts:
        adds.append("Attempts :one")
    if to in TERMINAL:
        # Counts terminal writes: the fault benchmark checks it is exactly 1 per job.
        adds.append("TerminalWrites :one")
    from_keys = []
    for i, status in enumerate(from_):
        values[f":f{i}"] = status.value
        from_keys.append(f":f{i}")
    condition = f"#s IN ({', '.join(from_keys)})"
    if extra_condition:
        condition = f"({condition}) AND ({extra_condition})"
        values.update(extra_values or {})
    if max_attempts_more is not None:
        sets.append("MaxAttempts = Attempts + :more")
        values[":more"] = max_attempts_more
    expression = "SET " + ", ".join(sets) + " ADD " + ", ".join(adds)
    if remove:
        names.update({f"#r{i}": attr for i, attr in enumerate(remove)})
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    return client("dynamodb").update_item(
        TableName=settings.table_name,
        Key={"JobId": {"S": job_id}},
        UpdateExpression=expression,
        ConditionExpression=f"attribute_exists(JobId) AND ({condition}) AND {hist_cond}",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=marshal(values),
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _charted(result: TransitionResult, *, started: bool = False) -> TransitionResult:
    """Count a worker's start or finish for the charts (in memory; core.operations.charts)."""
    if result.ok and result.item is not None:
        charts.record_item(unmarshal(result.item), started=started)
    return result


def _count_batch_child(item: dict[str, Any] | None) -> None:
    """A batch's child that is terminal is counted in its batch (issue 14): right
    after its own conditional terminal write, and again when a duplicate delivery
    finds it terminal (an idempotent ADD: core.batches.counting). If this raises, the
    worker's delivery is not acknowledged and its redelivery counts the child."""
    if item is None or "BatchId" not in item or JobStatus(item["Status"]["S"]) not in TERMINAL:
        return
    from core.batches import counting  # imported here: core.batches builds on this module

    counting.child_finished(item)


def _error(error: str, item: dict[str, Any] | None) -> str:
    return truncate_utf8(error, error_room(item))


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
    started = _transition(
        job_id,
        from_=(JobStatus.QUEUED, JobStatus.PROCESSING),
        to=JobStatus.PROCESSING,
        set_values={"StartedAt": now_iso(), "LeaseExpiresAt": now + lease_seconds, "Progress": 0},
        # The queue wait (issue 15) is CreatedAt → the first attempt's start.
        set_if_absent={"FirstStartMs": int(time.time() * 1000)},
        remove=("NextAttemptAt",),
        # A PROCESSING item always has a lease; "not exists" only guards against a
        # job that no delivery could ever start again (each would be held forever).
        extra_condition="#s = :fq OR ((attribute_not_exists(LeaseExpiresAt) OR "
        "LeaseExpiresAt < :now) AND Attempts < MaxAttempts)",
        extra_values={":fq": JobStatus.QUEUED.value, ":now": now},
        increment_attempts=True,
    )
    if not started.ok:
        _count_batch_child(started.item)  # a duplicate delivery of a finished child
    return _charted(started, started=True)


def fail_abandoned(
    job_id: str, *, attempt: int, error: str, item: dict[str, Any] | None = None
) -> TransitionResult:
    """PROCESSING whose holder died (lease expired) with no attempts left → FAILED, dead-lettered.

    Conditional on the attempt number and the expired lease, so exactly one
    delivery wins and a live holder is never failed.
    """
    return _charted(_transition(
        job_id,
        from_=(JobStatus.PROCESSING,),
        to=JobStatus.FAILED,
        set_values={"FinishedAt": now_iso(), "LastError": _error(error, item), "DeadLettered": True},
        remove=("LeaseExpiresAt",),
        extra_condition="Attempts = :attempt AND LeaseExpiresAt < :now",
        extra_values={":attempt": attempt, ":now": int(time.time())},
        item=item,
    ))


def _attempt_condition(attempt: int) -> tuple[str, dict[str, Any]]:
    return "Attempts = :attempt", {":attempt": attempt}


def completed_size(item: dict[str, Any], result_values: dict[str, Any]) -> int:
    """The size the hot item ``item`` (as its attempt started) would have once
    :func:`complete_job` wrote ``result_values`` (Result, or ResultIn + ResultBytes)."""
    after = {k: v for k, v in item.items() if k not in ("LeaseExpiresAt", "LastError")}
    after.update(marshal({"FinishedAt": now_iso(), "Progress": 100, **result_values}))
    old = [unmarshal(e["M"]) for e in item.get("History", {"L": []})["L"]]
    kept = (old + [history_entry(JobStatus.COMPLETED, now_iso())])[-HISTORY_KEEP:]
    after["History"] = marshal({"h": kept})["h"]
    after["HistoryCount"] = {"N": str(int(item.get("HistoryCount", {"N": "0"})["N"]) + 1)}
    after["TerminalWrites"] = {"N": str(int(item.get("TerminalWrites", {"N": "0"})["N"]) + 1)}
    return item_size(after)


def complete_job(
    job_id: str, *, attempt: int, result_values: dict[str, Any], item: dict[str, Any]
) -> TransitionResult:
    """PROCESSING (this attempt) → COMPLETED, referencing its result.

    ``result_values`` come from core.jobs.jobdata.place (the result inline, or where it
    was written, which the caller did first). ``item`` is the job's item as this
    attempt started it (start_job's answer). The item's size after the update is
    checked first, so a result that cannot fit raises ResultNotStored before
    anything is written, and so does DynamoDB's own refusal (ValidationException):
    the caller then ends the job FAILED with that reason. A job never says
    COMPLETED without its result.
    """
    size = completed_size(item, result_values)
    if size > MAX_ITEM_BYTES:
        raise ResultNotStored(
            f"the result was not stored: it would make the job's item {size} bytes, over "
            f"DynamoDB's item limit of {MAX_ITEM_BYTES} bytes"
        )
    cond, vals = _attempt_condition(attempt)
    try:
        return _charted(_transition(
            job_id,
            from_=(JobStatus.PROCESSING,),
            to=JobStatus.COMPLETED,
            set_values={"FinishedAt": now_iso(), "Progress": 100, **result_values},
            remove=("LeaseExpiresAt", "LastError"),
            extra_condition=cond,
            extra_values=vals,
            item=item,
        ))
    except ClientError as exc:
        if not is_validation_error(exc):
            raise
        message = exc.response.get("Error", {}).get("Message", "")
        raise ResultNotStored(
            f"the result was not stored: DynamoDB refused it ({message}); the job's item "
            f"would be about {size} bytes, DynamoDB's item limit is {MAX_ITEM_BYTES} bytes"
        ) from exc


def fail_job(
    job_id: str, *, attempt: int | None, error: str, item: dict[str, Any] | None = None
) -> TransitionResult:
    """PROCESSING (this attempt) → FAILED; with ``attempt=None`` also from QUEUED (DLQ)."""
    if attempt is None:
        return _charted(_transition(
            job_id,
            from_=(JobStatus.QUEUED, JobStatus.PROCESSING),
            to=JobStatus.FAILED,
            set_values={"FinishedAt": now_iso(), "LastError": _error(error, item),
                        "DeadLettered": True},
            remove=("LeaseExpiresAt",),
        ))
    cond, vals = _attempt_condition(attempt)
    return _charted(_transition(
        job_id,
        from_=(JobStatus.PROCESSING,),
        to=JobStatus.FAILED,
        set_values={"FinishedAt": now_iso(), "LastError": _error(error, item)},
        remove=("LeaseExpiresAt",),
        extra_condition=cond,
        extra_values=vals,
        item=item,
    ))


def retry_job(
    job_id: str, *, attempt: int, error: str, item: dict[str, Any] | None = None,
    next_attempt_at: int | None = None,
) -> TransitionResult:
    """PROCESSING → QUEUED after a failed attempt that will be retried; ``next_attempt_at``
    (epoch seconds) is when its delayed message becomes visible (shown as nextAttemptAt)."""
    cond, vals = _attempt_condition(attempt)
    values: dict[str, Any] = {"LastError": _error(error, item)}
    if next_attempt_at is not None:
        values["NextAttemptAt"] = next_attempt_at
    return _transition(
        job_id,
        from_=(JobStatus.PROCESSING,),
        to=JobStatus.QUEUED,
        set_values=values,
        remove=("LeaseExpiresAt",),
        extra_condition=cond,
        extra_values=vals,
        item=item,
    )


def cancel_job(job_id: str, *, note: str | None = None) -> TransitionResult:
    return _transition(
        job_id,
        from_=(JobStatus.QUEUED, JobStatus.PROCESSING),
        to=JobStatus.CANCELLED,
        set_values={"FinishedAt": now_iso()},
        remove=("LeaseExpiresAt", "NextAttemptAt"),
        note=note,
    )
