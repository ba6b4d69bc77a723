"""A job's payload and result: written once, read only when needed (issue 13).

Each is kept in one of three places, chosen by its size as compact UTF-8 JSON:

* **inline** in the hot item (``Payload`` / ``Result``), when it is so small that
  the hot item still ends under 1 KB (core/jobs/hot.py): no extra request at all;
* a **data item** in the Jobs table, key ``<JobId>#payload`` / ``<JobId>#result#<attempt>``
  (no OwnerId or CreatedAt, so the KEYS_ONLY owner index stays sparse and the job
  list never sees it), up to ``s3_threshold_bytes``: ``Data`` (S) + ``ExpiresAt``;
* **S3** above that (core/storage/objects.py, ``jobs/<JobId>/payload.json`` and
  ``jobs/<JobId>/result-<attempt>.json``), up to ``max_result_bytes`` for a result.

Why 8 KB: a data item of P KB costs ceil(P) WRU to write ($0.625 per million) and
ceil(P/4) RRU to read strongly consistent ($0.125 per million); S3 costs one PUT
($5 per million) and one GET ($0.40 per million). At 8 KB DynamoDB costs $5.25 per
million, S3 $5.40; at 9 KB DynamoDB is $6.00. Storage is negligible either way
with the 6 h TTL. docs/PERFORMANCE.md has the table.

The hot item references the data with ``PayloadIn``/``ResultIn`` ("item" or "s3")
and ``PayloadBytes``/``ResultBytes``; the data is always written before the hot
item that references it, so whoever reads the hot item finds the data.
A result's key names its attempt: an attempt that lost its job (taken over) and
still wrote its result cannot overwrite the result of the attempt that won.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from core.aws import client
from core.errors import DataMissing, ResultNotStored
from core.jobs.hot import HOT_ITEM_MAX, encode_json, fits_inline
from core.jobs.transitions import TransitionResult, complete_job, completed_size
from core.settings import settings
from core.storage import objects

Part = Literal["payload", "result"]


@dataclass(frozen=True)
class Placed:
    """Where one payload or result goes: the hot item's attributes, and what to
    write out of line first (:func:`write`)."""

    values: dict[str, Any]  # unmarshalled attributes for the hot item
    where: Literal["inline", "item", "s3"]
    data: bytes | None = None
    key: str | None = None  # the data item's JobId, or the S3 key


def _data_key(job_id: str, part: Part, attempt: int | None) -> str:
    return f"{job_id}#{part}" if attempt is None else f"{job_id}#{part}#{attempt}"


def _object_key(job_id: str, part: Part, attempt: int | None) -> str:
    return objects.job_key(job_id, f"{part}.json" if attempt is None else f"{part}-{attempt}.json")


def place(
    *, job_id: str, part: Part, value: Any, inline: bool, attempt: int | None = None
) -> Placed:
    """Decide where ``value`` goes. ``inline``: the caller found it fits the hot item
    (:func:`core.jobs.hot.fits_inline`, or the exact size at completion)."""
    encoded = encode_json(value)
    attr = "Payload" if part == "payload" else "Result"
    if inline:
        return Placed(values={attr: encoded}, where="inline")
    data = encoded.encode("utf-8")
    ref = {f"{attr}Bytes": len(data)}
    if part == "result" and len(data) > settings.max_result_bytes:
        raise ResultNotStored(
            f"the result was not stored: it takes {len(data)} bytes, over the limit of "
            f"{settings.max_result_bytes} bytes for a result (BATCHLAB_MAX_RESULT_BYTES)"
        )
    if len(data) <= settings.s3_threshold_bytes:
        return Placed(values={f"{attr}In": "item", **ref}, where="item", data=data,
                      key=_data_key(job_id, part, attempt))
    return Placed(values={f"{attr}In": "s3", **ref}, where="s3", data=data,
                  key=_object_key(job_id, part, attempt))


def place_payload(*, job_id: str, payload: dict[str, Any], hot_without: dict[str, Any]) -> Placed:
    """Inline if the new hot item (``hot_without``, marshalled, no payload yet) has room."""
    inline = fits_inline(hot_without, "Payload", encode_json(payload))
    return place(job_id=job_id, part="payload", value=payload, inline=inline)


def write(placed: Placed) -> None:
    """Write the out-of-line part (nothing for an inline one). Before the hot item."""
    if placed.where == "item":
        client("dynamodb").put_item(
            TableName=settings.table_name,
            Item={
                "JobId": {"S": placed.key},
                "Data": {"S": placed.data.decode("utf-8")},
                "ExpiresAt": {"N": str(int(time.time() + settings.job_ttl_hours * 3600))},
            },
        )
    elif placed.where == "s3":
        objects.put_bytes(placed.key, placed.data)


def _read_item(key: str) -> bytes:
    # Strongly consistent: the data item was written just before the hot item that
    # sent us here, and an eventually consistent read could still miss it.
    resp = client("dynamodb").get_item(
        TableName=settings.table_name, Key={"JobId": {"S": key}}, ConsistentRead=True
    )
    if "Item" not in resp:
        raise DataMissing(f"{key} is missing (expired?)")
    return resp["Item"]["Data"]["S"].encode("utf-8")


def _read_object(key: str) -> bytes:
    try:
        return objects.get_bytes(key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise DataMissing(f"s3://{objects.bucket()}/{key} is missing (expired?)") from exc
        raise


def _attempt(item: dict[str, Any]) -> int:
    return int(item.get("Attempts", {}).get("N", "0"))


def load_payload(item: dict[str, Any]) -> dict[str, Any]:
    """The payload of the hot item ``item`` (marshalled), wherever it lives."""
    job_id = item["JobId"]["S"]
    if "Payload" in item:
        return json.loads(item["Payload"]["S"])
    where = item.get("PayloadIn", {}).get("S")
    if where == "item":
        return json.loads(_read_item(_data_key(job_id, "payload", None)))
    if where == "s3":
        key = item.get("PayloadKey", {}).get("S") or _object_key(job_id, "payload", None)
        return json.loads(_read_object(key))
    raise DataMissing(f"job {job_id} has no payload")


def result_object_key(item: dict[str, Any]) -> str | None:
    """The S3 key of the job's result, if it is in S3."""
    if item.get("ResultIn", {}).get("S") != "s3":
        return None
    return _object_key(item["JobId"]["S"], "result", _attempt(item))


def load_result(item: dict[str, Any]) -> dict[str, Any] | None:
    """The result of the hot item ``item`` if it is inline or in a data item; None if
    there is none, or it is in S3 (read it through :func:`result_object_key`)."""
    if "Result" in item:
        return json.loads(item["Result"]["S"])
    if item.get("ResultIn", {}).get("S") == "item":
        key = _data_key(item["JobId"]["S"], "result", _attempt(item))
        return json.loads(_read_item(key))
    return None


def complete_with_result(
    job_id: str, *, attempt: int, result: dict[str, Any], item: dict[str, Any]
) -> TransitionResult:
    """Store an attempt's result where its size says, then mark the job COMPLETED.

    Steps: inline if the hot item (``item``, as the attempt started it) stays under
    HOT_ITEM_MAX once completed; else write it to a data item (<= s3_threshold_bytes)
    or S3 (<= max_result_bytes; over it: ResultNotStored), under a key naming the
    attempt; then the conditional COMPLETED write referencing it. The result is
    written first, so a COMPLETED job always has it.
    """
    inline = completed_size(item, {"Result": encode_json(result)}) <= HOT_ITEM_MAX
    placed = place(job_id=job_id, part="result", value=result, inline=inline, attempt=attempt)
    write(placed)
    return complete_job(job_id, attempt=attempt, result_values=placed.values, item=item)
