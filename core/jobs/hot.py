"""The hot item: the one small DynamoDB item per job that status updates rewrite.

On AWS every write costs one WRU per started KB of the item (the larger of its
size before and after) and every eventually consistent read 0.5 RRU per started
4 KB, so this item is kept under 1 KB whatever the payload and result (issue 13):
status, attempts, lease, timestamps, progress, a bounded error, the last
``HISTORY_KEEP`` transitions plus their count, and small references to where the
payload and result live (core/jobs/jobdata.py). Its attributes (PascalCase):

==================  =====================================================
JobId, OwnerId      key; OwnerId + CreatedAt feed the KEYS_ONLY owner index
Name, Type          as submitted (Name ≤ 100 characters)
Status, Attempts,   the state machine (core/jobs/status.py) and its attempt token
MaxAttempts
CreatedAt,          ISO 8601 UTC timestamps (StartedAt: the latest attempt's start)
StartedAt,
FinishedAt
FirstStartMs        the first attempt's start, epoch ms (the queue wait; 20 bytes
                    where an ISO string would take 41)
NextAttemptAt       epoch seconds, while QUEUED for a retry's delayed message
RerunOf             the JobId a re-run was made from (POST .../rerun)
Progress            0-100
LeaseExpiresAt      epoch seconds, while PROCESSING
LastError           the latest error, at most ``ERROR_BYTES`` UTF-8 bytes
History             the last ``HISTORY_KEEP`` transitions [{Status, At, Note?}]
HistoryCount        transitions ever made (older ones are dropped)
Payload | PayloadIn the payload as JSON when it is tiny, else where it is:
  + PayloadBytes    "item" (a data item) or "s3"; PayloadKey names an S3 object
                    other than the job's own ``payload.json`` (an upload)
Result | ResultIn   likewise for the result, written at COMPLETED
  + ResultBytes
RequestHash         16 bytes (Binary) with an Idempotency-Key
ExpiresAt           TTL, epoch seconds
TerminalWrites,     counters/flags for the fault benchmark and the DLQ
DeadLettered
==================  =====================================================
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from core.jobs.status import JobStatus
from core.settings import settings
from core.storage.item_size import item_size

# What the hot item may take at most (bytes, core.storage.item_size): under 1 KB, so each
# write of it costs 1 WRU and each read 0.5 RRU (docs/PERFORMANCE.md has the sums).
HOT_ITEM_MAX = 1000
HISTORY_KEEP = 4  # QUEUED, PROCESSING, COMPLETED fit; a retried job keeps its last four
ERROR_BYTES = 300  # at most, and less if the item has no room (see error_room)
# A history entry's note, written only by an operator action (issue 15): "retried",
# "bulk retry", "bulk cancel", "retry unsent". "Note" + ≤ 11 bytes + 1.
NOTES = ("retried", "bulk retry", "bulk cancel", "retry unsent")
NOTE_BYTES = 16

# The largest error the hot item holds: ERROR_BYTES if the item has room, never
# less than ERROR_MIN (a message cut shorter would say nothing), ERROR_RESERVE when
# the writer does not know the item (the DLQ reconciler: its reasons are short).
ERROR_MIN = 60
ERROR_RESERVE = 120
# What a QUEUED item may still grow by until it is terminal (bytes, worst case):
# StartedAt 36, FinishedAt 37, LeaseExpiresAt 20, TerminalWrites 16, DeadLettered 13,
# Attempts/Progress/HistoryCount gaining digits 3, History growing from 1 to
# HISTORY_KEEP entries of <= 51 bytes, and then the larger of a result reference
# (ResultIn + ResultBytes, <= 33) and an error (LastError, 9 + ERROR_RESERVE);
# since issue 15, FirstStartMs (20) and one history note (NOTE_BYTES: a bulk cancel;
# a retry's note comes with FinishedAt and LastError removed, and NextAttemptAt lives
# only while QUEUED, never beside FinishedAt).
GROWTH = 36 + 37 + 20 + 16 + 13 + 3 + (HISTORY_KEEP - 1) * 51 + 9 + ERROR_RESERVE + 20 + NOTE_BYTES
# What a started (PROCESSING) item may still grow by besides its error: FinishedAt,
# TerminalWrites, DeadLettered, digits, and two more history entries (a retry's
# start, then its end), one with a note (a bulk cancel).
AFTER_START_GROWTH = 37 + 16 + 13 + 3 + 2 * 51 + NOTE_BYTES

_ser = TypeSerializer()
_de = TypeDeserializer()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def marshal(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items()}


def unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def encode_json(value: Any) -> str:
    """Compact UTF-8 JSON, as payloads and results are stored. UTF-8 rather than
    escaped: one non-ASCII character costs 2 to 4 bytes instead of 6 or 12."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def history_entry(status: JobStatus, at: str, note: str | None = None) -> dict[str, str]:
    # No note from the worker: LastError says why, and a note per entry would not fit
    # in 1 KB. Operator actions (a retry, a bulk action) name themselves: one of NOTES.
    if note is None:
        return {"Status": status.value, "At": at}
    assert note in NOTES, note
    return {"Status": status.value, "At": at, "Note": note}


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (on a character boundary, "…" marking a cut)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: max(0, limit - 3)].decode("utf-8", errors="ignore") + "…"


def error_room(item: dict[str, Any] | None) -> int:
    """How many UTF-8 bytes of error the hot item ``item`` (marshalled, as the writer
    last saw it) can take and still end under HOT_ITEM_MAX."""
    if item is None:
        return ERROR_RESERVE
    rest = {k: v for k, v in item.items() if k != "LastError"}
    room = HOT_ITEM_MAX - item_size(rest) - AFTER_START_GROWTH - len("LastError")
    return max(ERROR_MIN, min(ERROR_BYTES, room))


def new_hot_item(
    *,
    job_id: str,
    owner_id: str,
    name: str,
    type_: str,
    payload_values: dict[str, Any],
    max_attempts: int,
    request_hash: bytes | None = None,
    rerun_of: str | None = None,
) -> dict[str, Any]:
    """The marshalled hot item of a new QUEUED job; ``payload_values`` are
    jobdata.payload_placement's (Payload inline, or PayloadIn + PayloadBytes)."""
    created = now_iso()
    values: dict[str, Any] = {
        "JobId": job_id,
        "OwnerId": owner_id,
        "Name": name,
        "Type": type_,
        "Status": JobStatus.QUEUED.value,
        "CreatedAt": created,
        "Attempts": 0,
        "MaxAttempts": max_attempts,
        "Progress": 0,
        "History": [history_entry(JobStatus.QUEUED, created)],
        "HistoryCount": 1,
        "ExpiresAt": int(time.time() + settings.job_ttl_hours * 3600),
        **payload_values,
    }
    if request_hash:
        values["RequestHash"] = request_hash
    if rerun_of:
        values["RerunOf"] = rerun_of
    return marshal(values)


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ms_between(start: str | None, end: str | None) -> int | None:
    a, b = _parse_iso(start), _parse_iso(end)
    return None if a is None or b is None else max(0, round((b - a).total_seconds() * 1000))


def times_of(raw: dict[str, Any]) -> dict[str, Any]:
    """The job's times for the API (issue 15), from an unmarshalled hot item:

    * ``queue_wait_ms``: CreatedAt → the first attempt's start (None until it starts);
    * ``run_ms``: the latest start → FinishedAt (None unless finished after a start);
    * ``started_attempt``: the attempt ``StartedAt`` belongs to (the latest: Attempts);
    * ``next_attempt_at``: while QUEUED for a retry, when its delayed message is due.
    """
    started = raw.get("StartedAt")
    created = _parse_iso(raw.get("CreatedAt"))
    wait = None
    if "FirstStartMs" in raw and created is not None:
        wait = max(0, int(raw["FirstStartMs"]) - round(created.timestamp() * 1000))
    elif int(raw.get("Attempts", 0)) == 1:  # an item from before FirstStartMs
        wait = _ms_between(raw.get("CreatedAt"), started)
    next_at = raw.get("NextAttemptAt")
    waiting = raw.get("Status") == JobStatus.QUEUED.value and next_at is not None
    return {
        "queue_wait_ms": wait,
        "run_ms": _ms_between(started, raw.get("FinishedAt")),
        "started_attempt": int(raw.get("Attempts", 0)) if started else None,
        "next_attempt_at": datetime.fromtimestamp(int(next_at), UTC) if waiting else None,
    }


def fits_inline(item_without: dict[str, Any], attribute: str, encoded: str) -> bool:
    """Whether ``attribute`` = ``encoded`` can join ``item_without`` (a new QUEUED item)
    and the item still end under HOT_ITEM_MAX after all its transitions."""
    extra = len(attribute) + len(encoded.encode("utf-8"))
    return item_size(item_without) + extra + GROWTH <= HOT_ITEM_MAX
