"""The Batches table's reads and writes (keys in core.batches.layout).

The meta item's attributes (PascalCase): BatchId, Part, OwnerId, CreatedAt, Name, Type,
Status, Gen (bumped by retry-failed), InputKey, Format, AllOrNothing, WebhookUrl,
MaxAttempts, StartedAt, FinishedAt, ExpiresAt;

* ingestion: Ingested (children written), ItemsTotal (once the input is read), IngestDone,
  IngestOffset / IngestLine / IngestItems (the checkpoint: byte offset, next line,
  input items so far), CsvHeader, IngestToken + IngestLeaseUntil (one reader at a
  time), InvalidCount, ValidationFailed;
* counting: C, F, X (children COMPLETED / FAILED / CANCELLED in rolled-up groups),
  Rolled (groups rolled up), RollVer (bumped by each roll-up: the recount's condition),
  Open (number set: groups sent and not rolled up),
  NextGroup (the next group to send), FailedSample (up to ~30 failed indexes),
  Redo / RedoEnd (retry-failed: the range of groups the window re-sends, Redo its cursor);
* ending: ResultsKey, WebhookSent (the Gen whose webhook was answered 2xx), Retrying,
  SweepDue.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from core.aws import client
from core.batches import layout
from core.dynamo import batch_get_items
from core.jobs.hot import marshal, unmarshal
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


def get_counters(batch_id: str, groups: list[int], *, consistent: bool = False) -> dict[int, Raw]:
    """The counters of ``groups`` (one BatchGetItem per 100); a group none of whose
    children has finished has none (nor has one left unread when throttled)."""
    items, _ = batch_get_items(_table(), [layout.counter_key(batch_id, g) for g in groups],
                               consistent=consistent)
    return {layout.group_from_part(raw["Part"]): raw for raw in map(unmarshal, items)}


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


def roll_up(batch_id: str, *, group: int, tally: tuple[int, int, int],
            kept: tuple[int, int, int] = (0, 0, 0)) -> bool:
    """Add a finished group's tally to the meta item, once. Two writes: the claim on
    the counter (``RolledUp``, on condition it was not: a repeat stops here), then the
    meta item's ADDs. A crash between them leaves the meta item short of this group;
    the sweeper then recounts it from the counters (:func:`recount`). (Not one
    TransactWriteItems: moto restores a whole table from a copy when a transaction's
    condition fails, undoing every other client's writes meanwhile.) ``kept`` is the
    part of the tally the meta item still holds from before a retry-failed
    (:func:`unroll`): only the rest is added. False if it was rolled up already."""
    c, f, x = tally
    kc, kf, kx = kept
    try:
        client("dynamodb").update_item(
            TableName=_table(), Key=layout.counter_key(batch_id, group),
            UpdateExpression="SET RolledUp = :t REMOVE Kept",
            ConditionExpression="attribute_not_exists(RolledUp)",
            ExpressionAttributeValues=marshal({":t": [c, f, x]}),
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    update_meta(batch_id, expression="ADD C :c, F :f, X :x, Rolled :one, RollVer :one "
                                     "DELETE #open :g",
                names={"#open": "Open"},
                values={":c": c - kc, ":f": f - kf, ":x": x - kx, ":one": 1, ":g": {group}})
    return True


def kept_of(counter: Raw) -> tuple[int, int, int]:
    """What the meta item holds of a group that is not rolled up (see :func:`unroll`)."""
    c, f, x = (int(v) for v in counter.get("Kept", (0, 0, 0)))
    return c, f, x


def unroll(batch_id: str, *, group: int, tally: list[int]) -> bool:
    """retry-failed: take a rolled-up group's FAILED children back off the meta item,
    once. Its COMPLETED and CANCELLED children stay counted there: the counter keeps
    them as ``Kept`` (and its next roll-up adds only the rest), so a poll counts a
    group that waits for the window right without reading its counter.

    The meta item is written first, then the counter (``REMOVE RolledUp`` on condition
    it is this tally): a crash between them leaves the meta item *short* (it cannot
    end early; the sweeper recounts it), never over; a concurrent run whose counter
    write is refused gives its meta ADD back. The group is put in no set: it waits in
    the meta item's ``Redo`` range for the window (core.batches.counting.fill_window)."""
    c, f, x = (int(v) for v in tally)
    update_meta(batch_id, expression="ADD F :minus_f, Rolled :minus, RollVer :one",
                values={":minus_f": -f, ":minus": -1, ":one": 1})
    try:
        client("dynamodb").update_item(
            TableName=_table(), Key=layout.counter_key(batch_id, group),
            UpdateExpression="REMOVE RolledUp SET Kept = :k", ConditionExpression="RolledUp = :t",
            ExpressionAttributeValues=marshal({":t": [c, f, x], ":k": [c, 0, x]}),
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            update_meta(batch_id, expression="ADD F :f, Rolled :one, RollVer :one",
                        values={":f": f, ":one": 1})
            return False
        raise
    return True


def widen_redo(batch_id: str, *, first: int, end: int) -> None:
    """retry-failed: make the range of groups the window re-feeds (``Redo`` .. ``RedoEnd``)
    cover ``first`` .. ``end``. Read, then write on condition the cursor did not move
    (the window moves it): the range only widens, so no waiting group is left out."""
    for _ in range(16):
        meta = get_meta(batch_id, consistent=True) or {}
        seen = meta.get("Redo")
        if seen is not None and int(seen) < int(meta.get("RedoEnd", 0)):
            first, end = min(first, int(seen)), max(end, int(meta["RedoEnd"]))
        condition = "attribute_not_exists(Redo)" if seen is None else "Redo = :seen"
        values: Raw = {":r": first, ":e": end, **({} if seen is None else {":seen": int(seen)})}
        if update_meta(batch_id, expression="SET Redo = :r, RedoEnd = :e", condition=condition,
                       values=values) is not None:
            return
    raise RuntimeError(f"batch {batch_id}: the retry range could not be set (contention)")


def waiting(meta: Raw, group: int) -> bool:
    """A group retry-failed took back that the window has not re-sent yet: in the
    ``Redo`` range and not open."""
    start, end = int(meta.get("Redo", 0)), int(meta.get("RedoEnd", 0))
    return start <= group < end and group not in {int(g) for g in meta.get("Open", set())}


def recount(batch_id: str, meta: Raw) -> Raw | None:
    """Set the meta item's totals, Rolled and Open from the counters themselves (the
    sweeper, when nothing moved): heals a crash between a roll-up's (or an unroll's)
    two writes. On condition no roll-up, unroll or refill happened meanwhile (RollVer,
    NextGroup, Redo). One Query per stripe."""
    counters = all_counters(batch_id)
    next_group = int(meta.get("NextGroup", 0))
    c = f = x = rolled = 0
    opened: set[int] = set()
    for group in sorted(set(range(next_group)) | set(counters)):
        counter = counters.get(group, {})
        tally = counter.get("RolledUp")
        if tally is not None:
            rolled += 1
        elif group >= next_group:
            continue  # never sent, nothing finished (a cancel's groups beyond NextGroup)
        else:
            tally = counter.get("Kept", (0, 0, 0))
            if not waiting(meta, group):
                opened.add(group)
        c, f, x = c + int(tally[0]), f + int(tally[1]), x + int(tally[2])
    expression = "SET C = :c, F = :f, X = :x, Rolled = :r"
    values: Raw = {":c": c, ":f": f, ":x": x, ":r": rolled, ":ng": next_group}
    if opened:
        expression += ", #open = :o"
        values[":o"] = opened
    else:
        expression += " REMOVE #open"
    condition = "NextGroup = :ng"
    if "RollVer" in meta:
        condition, values[":v"] = condition + " AND RollVer = :v", int(meta["RollVer"])
    else:
        condition += " AND attribute_not_exists(RollVer)"
    if "Redo" in meta:
        condition, values[":redo"] = condition + " AND Redo = :redo", int(meta["Redo"])
    else:
        condition += " AND attribute_not_exists(Redo)"
    return update_meta(batch_id, expression=expression, condition=condition,
                       names={"#open": "Open"}, values=values)


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
    items, _ = batch_get_items(_table(), [layout.meta_key(b) for b in batch_ids])
    return {raw["BatchId"]: raw for raw in map(unmarshal, items)}


def set_group_size(batch_id: str, group: int, size: int) -> None:
    """The last group's size, when it is short (before it is sent: see counting)."""
    client("dynamodb").update_item(
        TableName=_table(), Key=layout.counter_key(batch_id, group),
        UpdateExpression="SET GroupLen = :n", ExpressionAttributeValues={":n": {"N": str(size)}},
    )
