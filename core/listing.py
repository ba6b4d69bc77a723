"""One owner's jobs, newest first, paginated with an opaque cursor.

The owner index (OwnerId, CreatedAt) is KEYS_ONLY on purpose: status updates
then cost no index writes (an index projecting Status would double the write
units of every transition). A page is one Query on the index plus one
BatchGetItem of the summaries.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from core.aws import client
from core.errors import InvalidCursor
from core.job import JobPage, JobSummary
from core.settings import settings
from core.status import JobStatus
from core.store import _marshal, _unmarshal, summary_from_item

SUMMARY_ATTRIBUTES = (
    "JobId, OwnerId, #n, #t, #s, CreatedAt, StartedAt, FinishedAt, "
    "Attempts, MaxAttempts, Progress, LastError"
)
_SUMMARY_NAMES = {"#n": "Name", "#t": "Type", "#s": "Status"}


def _encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(_unmarshal(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, owner_id: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if set(key) != {"JobId", "OwnerId", "CreatedAt"} or not all(
            isinstance(v, str) for v in key.values()
        ):
            raise ValueError("unexpected cursor fields")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc
    if key["OwnerId"] != owner_id:
        raise InvalidCursor("the cursor belongs to another owner's listing")
    return _marshal(key)


def owner_index_query(owner_id: str) -> dict[str, Any]:
    """Query parameters for one owner's JobIds, newest first, from the KEYS_ONLY index
    (the job list here, a tenant's counts in core.stats)."""
    return {
        "TableName": settings.table_name,
        "IndexName": settings.owner_index_name,
        "KeyConditionExpression": "OwnerId = :o",
        "ExpressionAttributeValues": {":o": {"S": owner_id}},
        "ScanIndexForward": False,
    }


def batch_get(
    keys: list[dict[str, Any]], *, projection: str, names: dict[str, str]
) -> tuple[list[dict[str, Any]], bool]:
    """BatchGetItem ``projection`` of ``keys`` ({"JobId": ...}), 100 per request, asking
    again for unprocessed keys with backoff (throttled); True if some stayed unread."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {settings.table_name: {
            "Keys": [{"JobId": k["JobId"]} for k in keys[start:start + 100]],
            "ProjectionExpression": projection,
            "ExpressionAttributeNames": names,
        }}
        for attempt in range(4):
            if attempt:
                time.sleep(0.05 * 2**attempt)  # back off before asking for the unprocessed keys
            resp = client("dynamodb").batch_get_item(RequestItems=request)
            items.extend(resp["Responses"].get(settings.table_name, []))
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
        if request:
            return items, True
    return items, False


def list_jobs(
    *, owner_id: str, status: JobStatus | None, limit: int, cursor: str | None
) -> JobPage:
    """One owner's jobs, newest first. With a status filter, index pages are read
    until the page is full."""
    start_key = _decode_cursor(cursor, owner_id) if cursor else None
    items: list[JobSummary] = []
    next_cursor: str | None = None
    while True:
        params = {**owner_index_query(owner_id), "Limit": limit - len(items) + 1}
        if start_key:
            params["ExclusiveStartKey"] = start_key
        resp = client("dynamodb").query(**params)
        keys = resp.get("Items", [])
        summaries, _ = batch_get(keys, projection=SUMMARY_ATTRIBUTES, names=_SUMMARY_NAMES)
        found = {item["JobId"]["S"]: item for item in summaries}
        for key in keys:
            item = found.get(key["JobId"]["S"])
            if item is None:  # expired (TTL) between the query and the read
                continue
            if status is not None and item["Status"]["S"] != status.value:
                continue
            if len(items) == limit:
                return JobPage(items=items, next_cursor=next_cursor)
            items.append(summary_from_item(item))
            next_cursor = _encode_cursor(
                {k: key[k] for k in ("JobId", "OwnerId", "CreatedAt")}
            )
        start_key = resp.get("LastEvaluatedKey")
        if not start_key:
            return JobPage(items=items, next_cursor=None)
        if len(items) == limit:
            # More index entries exist; the next page may still come out empty
            # when a status filter excludes all of them.
            return JobPage(items=items, next_cursor=next_cursor)
