"""Finding jobs: one owner's jobs filtered, ordered and paged with cursors bound to
their filters (GET /api/jobs), and the matching jobs of a bulk action.

Access pattern (README "Finding jobs" states the read cost):

* The owner index (OwnerId, CreatedAt) is KEYS_ONLY on purpose: status updates
  then cost no index writes (an index projecting Status would double the write
  units of every transition, and a status index would too).
* ``createdAfter``/``createdBefore`` go into the key condition on CreatedAt, and the
  order is ``ScanIndexForward``: a time window costs only the entries inside it.
* Status, type and name are not in the index, so they apply to the summaries that
  BatchGetItem reads (a projection without Payload/Result: a list never reads
  payloads or results). Index pages are read until the page is full, but at most
  ``list_max_examined`` jobs per request: when that bound is hit the page comes
  back short, possibly empty, with a cursor, so a rare filter never makes one
  request read an owner's whole history.
* A cursor carries the last examined index key and a fingerprint of the filters,
  and is refused (422) with any other filters or owner.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from core.aws import client
from core.dynamo import batch_get_items, decode_cursor, encode_cursor
from core.errors import InvalidCursor, InvalidField
from core.jobs.hot import marshal, unmarshal
from core.jobs.job import JobPage
from core.jobs.status import JobStatus
from core.jobs.store import summary_from_item
from core.settings import settings

SUMMARY_ATTRIBUTES = (
    "JobId, OwnerId, #n, #t, #s, CreatedAt, StartedAt, FirstStartMs, FinishedAt, "
    "Attempts, MaxAttempts, Progress, LastError, NextAttemptAt, DeadLettered"
)
_SUMMARY_NAMES = {"#n": "Name", "#t": "Type", "#s": "Status"}
_KEY_FIELDS = ("JobId", "OwnerId", "CreatedAt")


@dataclass(frozen=True)
class JobFilter:
    """Which jobs: an owner (None: every owner, for an operator's bulk action), statuses
    (empty: any), a type, a name (prefix or contains, case-insensitive), a created-time
    window [created_after, created_before) as ISO 8601 UTC strings, and the order."""

    owner_id: str | None
    statuses: frozenset[JobStatus] = field(default_factory=frozenset)
    type: str | None = None
    name: str | None = None
    name_match: Literal["prefix", "contains"] = "prefix"
    created_after: str | None = None
    created_before: str | None = None
    order: Literal["newest", "oldest"] = "newest"

    @property
    def narrows(self) -> bool:
        """True if some jobs the index returns may not match (a filter on the summaries)."""
        return bool(self.statuses or self.type or self.name)

    def matches(self, raw: dict[str, Any]) -> bool:
        """Whether an unmarshalled summary matches (the window is checked too: a Scan has no key condition)."""
        if self.owner_id is not None and raw.get("OwnerId") != self.owner_id:
            return False
        if self.statuses and raw.get("Status") not in {s.value for s in self.statuses}:
            return False
        if self.type and raw.get("Type") != self.type:
            return False
        if self.name:
            name, wanted = str(raw.get("Name", "")).casefold(), self.name.casefold()
            if not (name.startswith(wanted) if self.name_match == "prefix" else wanted in name):
                return False
        created = str(raw.get("CreatedAt", ""))
        if self.created_after and created < self.created_after:
            return False
        return not (self.created_before and created >= self.created_before)

    @classmethod
    def build(
        cls, *, owner_id: str | None, statuses: list[str] | None = None, type: str | None = None,
        name: str | None = None, name_match: str = "prefix", created_after: datetime | None = None,
        created_before: datetime | None = None, order: str = "newest",
    ) -> JobFilter:
        """A filter from API input: ``statuses`` may repeat or be comma-separated;
        InvalidField (a 422 naming the parameter) for a value that cannot be used."""
        wanted: set[JobStatus] = set()
        for value in statuses or []:
            for part in filter(None, (p.strip() for p in value.split(","))):
                try:
                    wanted.add(JobStatus(part.upper()))
                except ValueError:
                    known = ", ".join(s.value for s in JobStatus)
                    raise InvalidField("status", f"unknown status {part!r}; one of {known}") from None
        after, before = _utc_iso(created_after, "createdAfter"), _utc_iso(created_before, "createdBefore")
        if after and before and after >= before:
            raise InvalidField("createdBefore", "must be later than createdAfter")
        return cls(owner_id=owner_id, statuses=frozenset(wanted), type=type or None,
                   name=name or None, name_match=name_match,  # type: ignore[arg-type]
                   created_after=after, created_before=before, order=order)  # type: ignore[arg-type]

    def fingerprint(self) -> str:
        canonical = json.dumps(
            [self.owner_id, sorted(s.value for s in self.statuses), self.type, self.name,
             self.name_match, self.created_after, self.created_before, self.order],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _utc_iso(value: datetime | None, name: str) -> str | None:
    """``value`` as CreatedAt is written (core.jobs.hot.now_iso: UTC, microseconds, "Z"), so
    strings compare as times; a time without a zone is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        raise InvalidField(name, "is out of range") from None


# --- cursors -----------------------------------------------------------------------


def _encode_cursor(key: dict[str, Any], flt: JobFilter) -> str:
    return encode_cursor({"k": {k: key[k]["S"] for k in _KEY_FIELDS}, "f": flt.fingerprint()})


def _decode_cursor(cursor: str, flt: JobFilter) -> dict[str, Any]:
    body = decode_cursor(cursor)
    try:
        key = body["k"]
        if not isinstance(body.get("f"), str) or set(key) != set(_KEY_FIELDS) or not all(
            isinstance(v, str) for v in key.values()
        ):
            raise ValueError("unexpected cursor fields")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc
    if key["OwnerId"] != flt.owner_id:
        raise InvalidCursor("the cursor belongs to another owner's listing")
    if body["f"] != flt.fingerprint():
        raise InvalidCursor(
            "the cursor belongs to a listing with other filters or order; "
            "start again without it")
    return marshal(key)


# --- reads -------------------------------------------------------------------------


def owner_index_query(owner_id: str) -> dict[str, Any]:
    """Query parameters for one owner's JobIds, newest first, from the KEYS_ONLY index
    (the job list here, a tenant's counts in core.operations.stats)."""
    return {
        "TableName": settings.table_name,
        "IndexName": settings.owner_index_name,
        "KeyConditionExpression": "OwnerId = :o",
        "ExpressionAttributeValues": {":o": {"S": owner_id}},
        "ScanIndexForward": False,
    }


def _filtered_index_query(flt: JobFilter) -> dict[str, Any]:
    """The owner's index query with the created-time window in the key condition."""
    assert flt.owner_id is not None
    params = owner_index_query(flt.owner_id)
    values = params["ExpressionAttributeValues"]
    after, before = flt.created_after, flt.created_before
    if after and before:
        # One condition per sort key: BETWEEN is inclusive, so CreatedAt == before is
        # dropped by JobFilter.matches.
        params["KeyConditionExpression"] += " AND CreatedAt BETWEEN :a AND :b"
        values.update({":a": {"S": after}, ":b": {"S": before}})
    elif after:
        params["KeyConditionExpression"] += " AND CreatedAt >= :a"
        values[":a"] = {"S": after}
    elif before:
        params["KeyConditionExpression"] += " AND CreatedAt < :b"
        values[":b"] = {"S": before}
    params["ScanIndexForward"] = flt.order == "oldest"
    return params


def batch_get(
    keys: list[dict[str, Any]], *, projection: str, names: dict[str, str]
) -> tuple[list[dict[str, Any]], bool]:
    """BatchGetItem ``projection`` of jobs ``keys`` ({"JobId": ...}, other attributes
    ignored); True if some stayed unread (core.dynamo.batch_get_items)."""
    return batch_get_items(settings.table_name, [{"JobId": k["JobId"]} for k in keys],
                           projection=projection, names=names)


@dataclass
class Examined:
    """What :func:`owner_matches` read: ``last_key`` is the index key to resume after
    (None: nothing was examined), ``more`` whether the index may hold more."""

    count: int = 0
    last_key: dict[str, Any] | None = None
    more: bool = False


def owner_matches(
    flt: JobFilter, *, start_key: dict[str, Any] | None, want: int, max_examined: int,
    progress: Examined,
) -> Iterator[dict[str, Any]]:
    """The owner's matching hot-item summaries (marshalled), in the filter's order.

    Reads index pages (one Query each) and BatchGetItem's their summaries, until
    ``want`` matched or ``max_examined`` jobs were read; ``progress`` tells where it
    stopped. Without a filter on the summaries, pages are ``want`` + 1 keys (the one
    more says whether there is a next page, and is not read); with one, pages grow
    from 10 to 100 keys, so a common filter reads little and a rare one few requests.
    """
    params = _filtered_index_query(flt)
    found = 0
    chunk = 10
    while True:
        budget = max_examined - progress.count
        if found >= want or budget <= 0:
            progress.more = True
            return
        if flt.narrows:
            size = min(100, budget, chunk)
            chunk = min(100, chunk * 2)
        else:
            size = min(100, budget, want - found) + 1
        query = {**params, "Limit": size}
        if start_key:
            query["ExclusiveStartKey"] = start_key
        resp = client("dynamodb").query(**query)
        keys = resp.get("Items", [])
        readable = keys if flt.narrows else keys[: size - 1]
        summaries, _ = batch_get(readable, projection=SUMMARY_ATTRIBUTES, names=_SUMMARY_NAMES)
        by_id = {item["JobId"]["S"]: item for item in summaries}
        for key in readable:
            if found >= want or progress.count >= max_examined:
                progress.more = True
                return
            progress.count += 1
            progress.last_key = start_key = {k: key[k] for k in _KEY_FIELDS}
            item = by_id.get(key["JobId"]["S"])  # absent: expired (TTL) or unprocessed
            if item is not None and flt.matches(unmarshal(item)):
                found += 1
                yield item
        if len(keys) > len(readable):
            continue  # the one extra key: there is more; resume after the last read
        start_key = resp.get("LastEvaluatedKey")
        if not start_key:
            progress.more = False
            return


def all_matches(
    flt: JobFilter, *, want: int, max_examined: int, progress: Examined
) -> Iterator[dict[str, Any]]:
    """Every owner's matching summaries (an operator's bulk action without ownerId): a
    Scan, billed for every item it reads whatever the filter (like /api/queues), so it
    stops after ``max_examined`` items or ``want`` matches."""
    params: dict[str, Any] = {
        "TableName": settings.table_name,
        "ProjectionExpression": SUMMARY_ATTRIBUTES,
        # Jobs only: the table also holds payload/result data items (core/jobs/jobdata.py).
        "FilterExpression": "attribute_exists(#s)",
        "ExpressionAttributeNames": _SUMMARY_NAMES,
    }
    found = 0
    while True:
        budget = max_examined - progress.count
        if found >= want or budget <= 0:
            progress.more = True
            return
        # Pages of 200: each is one quick request (a slow page would hit the API's 2.5 s
        # read timeout; moto takes ~0.6 s for a page of 1,000 on a loaded machine).
        page = client("dynamodb").scan(**{**params, "Limit": min(200, budget)})
        progress.count += page.get("ScannedCount", 0)
        for item in page.get("Items", []):
            if flt.matches(unmarshal(item)):
                found += 1
                yield item
                if found >= want:
                    break
        params["ExclusiveStartKey"] = page.get("LastEvaluatedKey")
        if not params["ExclusiveStartKey"]:
            progress.more = found >= want
            return


def list_jobs(*, flt: JobFilter, limit: int, cursor: str | None) -> JobPage:
    """One owner's jobs matching ``flt``, in its order, ``limit`` at most per page.

    A page may hold fewer than ``limit`` jobs (none, even) and still carry a cursor:
    the request examined ``list_max_examined`` jobs without filling it.
    """
    start_key = _decode_cursor(cursor, flt) if cursor else None
    progress = Examined()
    items = [
        summary_from_item(item)
        for item in owner_matches(flt, start_key=start_key, want=limit,
                                  max_examined=settings.list_max_examined, progress=progress)
    ]
    if progress.more and progress.last_key is not None:
        return JobPage(items=items, next_cursor=_encode_cursor(progress.last_key, flt))
    return JobPage(items=items, next_cursor=None)
