"""The Batches table's reads and writes (keys in core.batches.layout).

The meta item's attributes (PascalCase): BatchId, Part, OwnerId, CreatedAt, Name, Type,
Status, Gen (bumped by retry-failed), InputKey, Format, AllOrNothing, WebhookUrl,
MaxAttempts, StartedAt, FinishedAt, ExpiresAt;

* ingestion: Ingested (children written), ItemsTotal (once the input is read), IngestDone,
  IngestOffset / IngestLine / IngestItems (the checkpoint: byte offset, next line,
  input items so far), CsvHeader, IngestToken + IngestLeaseUntil (one reader at a
  time), InvalidCount, ValidationFailed;
* counting: C, F, X (children COMPLETED / FAILED / CANCELLED in rolled-up groups),
  Rolled (groups rolled up), Open (number set: groups sent and not rolled up),
  NextGroup (the next group to send), FailedSample (up to ~30 failed indexes);
* ending: ResultsKey, WebhookSent (the Gen whose webhook was answered 2xx), Retrying,
  SweepDue.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from core.aws import client
from core.batches import layout
from core.hot import marshal, unmarshal
from core.settings import settings

Raw = dict[str, Any]


def _table() -> str:
    return settings.batches_table_name


def is_conditional_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def put_meta(values: Raw) -> None:
    client("dynamodb").put_item(
        TableName=_table(), Item=marshal(values),
        ConditionExpression="attribute_not_exists(BatchId)",
    )


def get_meta(batch_id: str, *, consistent: bool = False) -> Raw | None:
    resp = client("dynamodb").get_item(
        TableName=_table(), Key=layout.meta_key(batch_id), ConsistentRead=consistent)
    item = resp.get("Item")
    return None if item is None else unmarshal(item)


def update_meta(
    batch_id: str,
    *,
    expression: str,
    condition: str | None = None,
    names: dict[str, str] | None = None,
    values: Raw | None = None,
) -> Raw | None:
    """One UpdateItem of the meta item; its new values, or None if ``condition`` failed."""
    params: dict[str, Any] = {
        "TableName": _table(), "Key": layout.meta_key(batch_id),
        "UpdateExpression": expression, "ReturnValues": "ALL_NEW",
    }
    cond = "attribute_exists(BatchId)" + (f" AND ({condition})" if condition else "")
    params["ConditionExpression"] = cond
    if names:
        params["ExpressionAttributeNames"] = names
    if values:
        params["ExpressionAttributeValues"] = marshal(values)
    try:
        resp = client("dynamodb").update_item(**params)
    except ClientError as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return unmarshal(resp["Attributes"])


# --- counters ------------------------------------------------------------------------

STATUS_SET = {"COMPLETED": "C", "FAILED": "F", "CANCELLED": "X"}


def count_child(batch_id: str, *, index: int, status: str) -> Raw:
    """ADD the child's index to its group counter's set for ``status``. A number-set
    ADD is idempotent: a repeat (a redelivery, the sweeper) never counts it twice.
    Returns the counter's new values."""
    resp = client("dynamodb").update_item(
        TableName=_table(), Key=layout.counter_key(batch_id, layout.group_of(index)),
        UpdateExpression=f"ADD {STATUS_SET[status]} :i",
        ExpressionAttributeValues={":i": {"NS": [str(index)]}},
        ReturnValues="ALL_NEW",
    )
    return unmarshal(resp["Attributes"])


def uncount_failed(batch_id: str, *, index: int) -> None:
    """retry-failed: the child is FAILED no more."""
    client("dynamodb").update_item(
        TableName=_table(), Key=layout.counter_key(batch_id, layout.group_of(index)),
        UpdateExpression="DELETE F :i",
        ExpressionAttributeValues={":i": {"NS": [str(index)]}},
    )


def get_counters(batch_id: str, groups: list[int]) -> dict[int, Raw]:
    """The counters of ``groups`` (one BatchGetItem per 100); a group none of whose
    children has finished has none."""
    found: dict[int, Raw] = {}
    for start in range(0, len(groups), 100):
        request: dict[str, Any] = {_table(): {
            "Keys": [layout.counter_key(batch_id, g) for g in groups[start:start + 100]]}}
        for attempt in range(5):
            if attempt:
                time.sleep(0.05 * 2**attempt)
            resp = client("dynamodb").batch_get_item(RequestItems=request)
            for item in resp["Responses"].get(_table(), []):
                raw = unmarshal(item)
                found[layout.group_from_part(raw["Part"])] = raw
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
    return found


def all_counters(batch_id: str, *, with_failures: bool = False) -> dict[int, Raw]:
    """Every counter of the batch (one Query per stripe): retry-failed, cancel and the
    sweeper's repair only, never a poll."""
    found: dict[int, Raw] = {}
    for partition in layout.counter_partitions(batch_id):
        params: dict[str, Any] = {
            "TableName": _table(), "KeyConditionExpression": "BatchId = :b",
            "ExpressionAttributeValues": {":b": {"S": partition}},
        }
        if with_failures:
            params["FilterExpression"] = "attribute_exists(F)"
        while True:
            resp = client("dynamodb").query(**params)
            for item in resp.get("Items", []):
                raw = unmarshal(item)
                found[layout.group_from_part(raw["Part"])] = raw
            if "LastEvaluatedKey" not in resp:
                break
            params["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return found


def _transact(items: list[dict[str, Any]]) -> bool:
    """TransactWriteItems; False if a condition failed. A conflict with another
    transaction on the same item is retried (it says nothing about the condition)."""
    for attempt in range(8):
        try:
            client("dynamodb").transact_write_items(TransactItems=items)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons or not reasons:
                return False
            time.sleep(min(0.5, 0.02 * 2**attempt))
    raise RuntimeError("TransactWriteItems kept conflicting")


def roll_up(batch_id: str, *, group: int, tally: tuple[int, int, int],
            failed: list[int], sample_room: bool) -> bool:
    """Add a finished group's tally to the meta item, once: one transaction with the
    counter (RolledUp set on condition it was not), so a repeat changes nothing and a
    crash leaves both or neither. False if it was rolled up already."""
    c, f, x = tally
    meta_expr = "ADD C :c, F :f, X :x, Rolled :one DELETE #open :g"
    values: Raw = {":c": c, ":f": f, ":x": x, ":one": 1, ":g": {group}}
    if failed and sample_room:
        meta_expr = "ADD C :c, F :f, X :x, Rolled :one, FailedSample :fs DELETE #open :g"
        values[":fs"] = set(failed[: layout.FAILURES_SHOWN])
    return _transact([
        {"Update": {
            "TableName": _table(), "Key": layout.counter_key(batch_id, group),
            "UpdateExpression": "SET RolledUp = :t",
            "ConditionExpression": "attribute_not_exists(RolledUp)",
            "ExpressionAttributeValues": marshal({":t": [c, f, x]}),
        }},
        {"Update": {
            "TableName": _table(), "Key": layout.meta_key(batch_id),
            "UpdateExpression": meta_expr,
            "ExpressionAttributeNames": {"#open": "Open"},
            "ExpressionAttributeValues": marshal(values),
        }},
    ])


def unroll(batch_id: str, *, group: int, tally: list[int]) -> bool:
    """retry-failed: take a rolled-up group's tally back off the meta item (once), and
    open the group again."""
    c, f, x = (int(v) for v in tally)
    return _transact([
        {"Update": {
            "TableName": _table(), "Key": layout.counter_key(batch_id, group),
            "UpdateExpression": "REMOVE RolledUp",
            "ConditionExpression": "RolledUp = :t",
            "ExpressionAttributeValues": marshal({":t": [c, f, x]}),
        }},
        {"Update": {
            "TableName": _table(), "Key": layout.meta_key(batch_id),
            "UpdateExpression": "ADD C :c, F :f, X :x, Rolled :minus, #open :g",
            "ExpressionAttributeNames": {"#open": "Open"},
            "ExpressionAttributeValues": marshal(
                {":c": -c, ":f": -f, ":x": -x, ":minus": -1, ":g": {group}}),
        }},
    ])


def set_counter_flag(batch_id: str, group: int, flag: str) -> None:
    client("dynamodb").update_item(
        TableName=_table(), Key=layout.counter_key(batch_id, group),
        UpdateExpression=f"SET {flag} = :t", ExpressionAttributeValues={":t": {"BOOL": True}},
    )


# --- invalid items, listing ----------------------------------------------------------


def put_invalid(batch_id: str, items: list[Raw]) -> None:
    client("dynamodb").put_item(TableName=_table(), Item=marshal({
        "BatchId": f"{batch_id}#i", "Part": "invalid", "Items": items,
        "ExpiresAt": int(time.time() + settings.job_ttl_hours * 3600),
    }))


def get_invalid(batch_id: str) -> list[Raw]:
    resp = client("dynamodb").get_item(TableName=_table(), Key=layout.invalid_key(batch_id))
    return unmarshal(resp["Item"]).get("Items", []) if "Item" in resp else []


def query_owner(owner_id: str, *, limit: int, start: Raw | None) -> tuple[list[str], Raw | None]:
    """BatchIds of ``owner_id``, newest first, from the KEYS_ONLY owner-created index."""
    params: dict[str, Any] = {
        "TableName": _table(), "IndexName": settings.batches_owner_index_name,
        "KeyConditionExpression": "OwnerId = :o",
        "ExpressionAttributeValues": {":o": {"S": owner_id}},
        "ScanIndexForward": False, "Limit": limit,
    }
    if start:
        params["ExclusiveStartKey"] = marshal(start)
    resp = client("dynamodb").query(**params)
    ids = [item["BatchId"]["S"] for item in resp.get("Items", [])]
    last = resp.get("LastEvaluatedKey")
    return ids, None if last is None else unmarshal(last)


def get_metas(batch_ids: list[str]) -> dict[str, Raw]:
    found: dict[str, Raw] = {}
    for start in range(0, len(batch_ids), 100):
        request: dict[str, Any] = {_table(): {
            "Keys": [layout.meta_key(b) for b in batch_ids[start:start + 100]]}}
        for attempt in range(5):
            if attempt:
                time.sleep(0.05 * 2**attempt)
            resp = client("dynamodb").batch_get_item(RequestItems=request)
            for item in resp["Responses"].get(_table(), []):
                raw = unmarshal(item)
                found[raw["BatchId"]] = raw
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
    return found


def set_group_size(batch_id: str, group: int, size: int) -> None:
    """The last group's size, when it is short (before it is sent: see counting)."""
    client("dynamodb").update_item(
        TableName=_table(), Key=layout.counter_key(batch_id, group),
        UpdateExpression="SET GroupLen = :n", ExpressionAttributeValues={":n": {"N": str(size)}},
    )
