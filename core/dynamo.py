"""DynamoDB reads shared by jobs and batches: BatchGetItem of any number of keys, and the
opaque cursors of paginated lists."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from core.aws import client
from core.errors import InvalidCursor


def batch_get_items(
    table: str, keys: list[dict[str, Any]], *, projection: str | None = None,
    names: dict[str, str] | None = None, attempts: int = 5, consistent: bool = False,
) -> tuple[list[dict[str, Any]], bool]:
    """BatchGetItem ``keys`` of ``table``, 100 per request, asking again for unprocessed
    keys with backoff (throttled); returns the items and True if some stayed unread.
    ``consistent``: strongly consistent reads (twice the read units)."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        spec: dict[str, Any] = {"Keys": keys[start:start + 100]}
        if projection:
            spec["ProjectionExpression"] = projection
        if names:
            spec["ExpressionAttributeNames"] = names
        if consistent:
            spec["ConsistentRead"] = True
        request: dict[str, Any] = {table: spec}
        for attempt in range(attempts):
            if attempt:
                time.sleep(0.05 * 2**attempt)  # back off before asking for the unprocessed keys
            resp = client("dynamodb").batch_get_item(RequestItems=request)
            items.extend(resp["Responses"].get(table, []))
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
        if request:
            return items, True
    return items, False


def encode_cursor(body: Any) -> str:
    """An opaque page cursor carrying ``body`` (JSON) back to :func:`decode_cursor`."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The body of a cursor from :func:`encode_cursor`; InvalidCursor if it is not one."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc
