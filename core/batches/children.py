"""A batch's children: ordinary jobs of the batch's type in the Jobs table.

A child's hot item is a job's (core.jobs.hot) with ``BatchId`` and ``BatchIndex``, and its
owner under ``BatchOwnerId`` instead of ``OwnerId``: it is in no owner index, so "My
jobs" and a tenant's /api/queues counts never read 50,000 children (the batch is
listed instead). Children are written 25 per BatchWriteItem (core.jobs.store.put_jobs)
and sent 10 per SendMessageBatch, a group at a time, by the feeding window
(core.batches.counting). Unlike a single job, a child is stored *before* its message
is sent: the window sends only groups already written, and the sweeper re-sends a
group whose send was lost, so no child waits forever (README "Batches").
"""

from __future__ import annotations

import json
from typing import Any

from core.batches import layout, sending
from core.dynamo import batch_get_items
from core.jobs import jobdata, store
from core.jobs.hot import new_hot_item
from core.settings import settings
from core.storage import objects

CHILD_ATTRIBUTES = "JobId, BatchIndex, #s, LastError, Attempts, ResultIn, #r, ResultBytes"
CHILD_NAMES = {"#s": "Status", "#r": "Result"}


def _batchify(item: dict[str, Any], *, batch_id: str, index: int) -> dict[str, Any]:
    out = dict(item)
    out["BatchOwnerId"] = out.pop("OwnerId")
    out["BatchId"] = {"S": batch_id}
    out["BatchIndex"] = {"N": str(index)}
    return out


def new_child(
    *, batch_id: str, index: int, owner_id: str, name: str, type_: str,
    payload: dict[str, Any], max_attempts: int,
) -> store.NewJob:
    """The child's hot item (QUEUED) and where its payload goes (as a job's)."""
    job_id = layout.child_id(batch_id, index)
    fields = dict(job_id=job_id, owner_id=owner_id, name=f"{name} #{index}", type_=type_,
                  max_attempts=max_attempts)
    bare = _batchify(new_hot_item(**fields, payload_values={}), batch_id=batch_id, index=index)
    placed = jobdata.place_payload(job_id=job_id, payload=payload, hot_without=bare)
    item = _batchify(new_hot_item(**fields, payload_values=placed.values),
                     batch_id=batch_id, index=index)
    return store.NewJob(item=item, payload=placed)


def write(news: list[store.NewJob]) -> list[str]:
    """BatchWriteItem (25 per request, after any out-of-line payload); the ids unwritten."""
    return store.put_jobs(news)


def send_groups(batch_id: str, groups: list[int], *, total: int) -> None:
    """SendMessageBatch each group's children (ten JobIds per request). Raises if SQS
    refused some: the caller's task fails and is retried, or the sweeper re-sends."""
    ids = [layout.child_id(batch_id, i) for g in groups for i in layout.group_indexes(g, total)]
    send_ids(ids)


def send_ids(ids: list[str]) -> None:
    refused = sending.send_jobs(ids)
    if refused:
        raise RuntimeError(f"SQS refused {len(refused)} of {len(ids)} child messages")


def get_children(batch_id: str, indexes: list[int]) -> list[dict[str, Any]]:
    """The hot items of the children at ``indexes`` (BatchGetItem, 100 per request), in
    index order; a child not written (yet) is left out."""
    keys = [{"JobId": {"S": layout.child_id(batch_id, i)}} for i in indexes]
    items, _ = batch_get_items(settings.table_name, keys, projection=CHILD_ATTRIBUTES, names=CHILD_NAMES)
    return sorted(items, key=lambda item: int(item["BatchIndex"]["N"]))


def get_full_children(batch_id: str, indexes: list[int]) -> list[dict[str, Any]]:
    """Whole hot items (for results and repairs), in index order."""
    keys = [{"JobId": {"S": layout.child_id(batch_id, i)}} for i in indexes]
    names = {"#s": "Status", "#r": "Result", "#n": "Name", "#t": "Type"}
    projection = ("JobId, BatchId, BatchIndex, BatchOwnerId, #n, #t, #s, LastError, Attempts, "
                  "MaxAttempts, ResultIn, #r, ResultBytes, CreatedAt, StartedAt, FinishedAt")
    items, _ = batch_get_items(settings.table_name, keys, projection=projection, names=names)
    return sorted(items, key=lambda item: int(item["BatchIndex"]["N"]))


def result_line(item: dict[str, Any]) -> dict[str, Any]:
    """A results line: {index, jobId, status, result | error}."""
    status = item["Status"]["S"]
    line: dict[str, Any] = {"index": int(item["BatchIndex"]["N"]), "jobId": item["JobId"]["S"],
                            "status": status}
    if status == "COMPLETED":
        key = jobdata.result_object_key(item)
        if key is not None:
            line["result"] = json.loads(objects.get_bytes(key))
        else:
            line["result"] = jobdata.load_result(item)
    elif "LastError" in item:
        line["error"] = item["LastError"]["S"]
    return line
