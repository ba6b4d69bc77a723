"""Reading a batch's input (JSON Lines or CSV in S3) into children, in a worker task.

The API never reads the file: it stores the batch and sends ``batchlab.batch_ingest``.
That task works in slices of ``batch_ingest_slice_seconds`` and then sends the next
slice's message, so no task outlives the queue's visibility timeout, and other
batches' children and single jobs get the worker in between.

Steps of one slice:
  1. take the ingestion lease on the meta item (conditional: expired or free; renewed
     at each checkpoint), so one reader writes children at a time; a message finding
     it held looks again when it ends (a delayed message), so a dead reader is taken
     over about a lease later;
  2. GET the object from the checkpoint's byte offset (a ranged GET), one record at a
     time (core.batches.parsing: bounded memory, whatever the file size);
  3. per ``CHUNK`` children: BatchWriteItem them (ids derived from batch + index, so a
     resumed slice rewrites the same items, none of which was sent yet), then the
     checkpoint (offset, line, counts) on condition the lease is still ours and the
     batch RUNNING, then fill the window (core.batches.counting.fill_window);
  4. at the end of the file: the last group's size on its counter, then ItemsTotal and
     IngestDone; else release the lease and send the next slice.

A crash between a chunk's writes and its checkpoint loses nothing: the next slice
starts from the checkpoint and writes the same children again. allOrNothing reads the
whole file once first, validating only; any invalid item ends the batch CANCELLED
with ``ValidationFailed`` and the invalid items listed, before any child exists.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from core.batches import children, counting, layout, parsing, sending, table
from core.jobs import store
from core.jobs.job_types import REGISTRY
from core.settings import settings
from core.storage import objects

log = logging.getLogger("batchlab.batches")

INGEST_TASK = "batchlab.batch_ingest"
CHUNK = 250  # children per checkpoint: 10 BatchWriteItem requests


def _stream(key: str, offset: int) -> Any:
    try:
        return objects.open_stream(key, start=offset)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # at the very end
            return _Empty()
        raise


class _Empty:
    def read(self, size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass


def records(meta: dict[str, Any], *, offset: int, line: int) -> tuple[Iterator[parsing.Record], list[str] | None, Any]:
    """The input's records from the checkpoint; the CSV header (read at offset 0)."""
    body = _stream(meta["InputKey"], offset)
    source = parsing.lines(body, offset=offset, number=line)
    if meta.get("Format") != "csv":
        return parsing.jsonl_records(source), None, body
    header = meta.get("CsvHeader")
    if header is None:
        found = parsing.csv_header(source)
        if found is None:
            return iter(()), [], body
        header = found[0]
    return parsing.csv_records(source, list(header)), list(header), body


def check_item(model: Any, record: parsing.Record, *, index: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(payload, None) or (None, the invalid item's report)."""
    if record.fields is None:
        return None, {"line": record.line, "index": index,
                      "errors": [{"field": "item", "message": record.error or "unreadable"}]}
    payload, errors = parsing.validate(model, record.fields)
    if errors:
        return None, {"line": record.line, "index": index, "errors": errors}
    return payload, None


def lease_seconds() -> int:
    """The reader's lease: renewed at every checkpoint (≤ CHUNK children apart), so
    it only has to outlast one chunk's writes; a dead reader is taken over after it."""
    return 30


def run_slice(batch_id: str) -> str:
    """One slice of ingestion (see the module docstring); what happened, for the logs."""
    meta = table.get_meta(batch_id, consistent=True)
    if meta is None or meta.get("IngestDone") or meta.get("Status") != "RUNNING":
        return "nothing to do"
    token = uuid.uuid4().hex
    now = time.time()
    lease = lease_seconds()
    meta = table.update_meta(
        batch_id, expression="SET IngestToken = :t, IngestLeaseUntil = :until",
        condition="(attribute_not_exists(IngestLeaseUntil) OR IngestLeaseUntil < :now) "
                  "AND #s = :running",
        names={"#s": "Status"},
        values={":t": token, ":until": int(now + lease), ":now": int(now), ":running": "RUNNING"})
    if meta is None:
        # Another reader holds it (or held it, and died): look again once its lease
        # ends, so a dead reader's work is taken over without waiting for the sweeper.
        held = table.get_meta(batch_id, consistent=True) or {}
        if held.get("Status") == "RUNNING" and not held.get("IngestDone"):
            left = int(held.get("IngestLeaseUntil", 0)) - int(time.time())
            sending.send_task(INGEST_TASK, batch_id, delay_seconds=max(1, min(900, left + 1)))
        return "held by another reader; looking again when its lease ends"
    job_type = REGISTRY.get(meta["Type"])
    if job_type is None:
        raise RuntimeError(f"batch {batch_id}: job type {meta['Type']!r} is not registered here")
    if meta.get("AllOrNothing") and not meta.get("Validated"):
        if not _validate_all(batch_id, meta, job_type.payload_model, token):
            return "invalid items: cancelled"
        meta = table.get_meta(batch_id, consistent=True) or meta
    return _ingest(batch_id, meta, job_type, token)


def _validate_all(batch_id: str, meta: dict[str, Any], model: Any, token: str) -> bool:
    items, header, body = records(meta, offset=0, line=1)
    invalid: list[dict[str, Any]] = []
    count = 0
    try:
        for index, record in enumerate(items):
            if index and not index % 5000 and table.update_meta(
                    batch_id, expression="SET IngestLeaseUntil = :until",
                    condition="IngestToken = :k",
                    values={":until": int(time.time()) + lease_seconds(), ":k": token}) is None:
                raise LeaseLost(f"batch {batch_id}: ingestion lease lost while validating")
            _, report = check_item(model, record, index=index)
            if report is not None:
                count += 1
                if len(invalid) < layout.INVALID_KEEP:
                    invalid.append(report)
    finally:
        body.close()
    if not count:
        table.update_meta(batch_id, expression="SET Validated = :t", condition="IngestToken = :k",
                          values={":t": True, ":k": token})
        return True
    table.put_invalid(batch_id, invalid)
    ended = table.update_meta(
        batch_id,
        expression="SET #s = :c, InvalidCount = :n, ValidationFailed = :t, IngestDone = :t, "
                   "ItemsTotal = :zero, FinishedAt = :now",
        condition="IngestToken = :k AND #s = :running", names={"#s": "Status"},
        values={":c": "CANCELLED", ":n": count, ":t": True, ":zero": 0, ":k": token,
                ":running": "RUNNING", ":now": counting._now()})
    if ended is not None:
        counting.maybe_finish(batch_id, ended)
    return False


def _ingest(batch_id: str, meta: dict[str, Any], job_type: Any, token: str) -> str:
    offset, line = int(meta.get("IngestOffset", 0)), int(meta.get("IngestLine", 1))
    seen, ingested = int(meta.get("IngestItems", 0)), int(meta.get("Ingested", 0))
    invalid_count = int(meta.get("InvalidCount", 0))
    invalid = table.get_invalid(batch_id) if invalid_count else []
    items, header, body = records(meta, offset=offset, line=line)
    deadline = time.monotonic() + settings.batch_ingest_slice_seconds
    chunk: list[store.NewJob] = []
    new_invalid = False
    finished = True
    try:
        for record in items:
            payload, report = check_item(job_type.payload_model, record, index=seen)
            seen += 1
            if report is not None:
                invalid_count += 1
                if len(invalid) < layout.INVALID_KEEP:
                    invalid.append(report)
                    new_invalid = True
            else:
                chunk.append(children.new_child(
                    batch_id=batch_id, index=ingested + len(chunk), owner_id=meta["OwnerId"],
                    name=meta["Name"], type_=meta["Type"], payload=payload,
                    max_attempts=job_type.max_attempts))
            offset, line = record.end, record.line + 1
            if len(chunk) >= CHUNK:
                ingested = _checkpoint(batch_id, token, chunk, ingested=ingested, offset=offset,
                                       line=_next_line(record), seen=seen, invalid=invalid if new_invalid else None,
                                       invalid_count=invalid_count, header=header)
                chunk, new_invalid = [], False
                if time.monotonic() > deadline:
                    finished = False
                    break
    finally:
        body.close()
    if finished:
        if ingested + len(chunk) and (ingested + len(chunk)) % layout.GROUP_SIZE:
            last = layout.group_of(ingested + len(chunk) - 1)
            table.set_group_size(batch_id, last, (ingested + len(chunk)) % layout.GROUP_SIZE)
        _checkpoint(batch_id, token, chunk, ingested=ingested, offset=offset, line=line,
                    seen=seen, invalid=invalid if new_invalid else None,
                    invalid_count=invalid_count, header=header, done=True)
        return "read to the end"
    table.update_meta(batch_id, expression="SET IngestLeaseUntil = :zero",
                      condition="IngestToken = :k", values={":zero": 0, ":k": token})
    sending.send_task(INGEST_TASK, batch_id)
    return "slice done; the next one is sent"


def _next_line(record: parsing.Record) -> int:
    return record.line + 1


class LeaseLost(Exception):
    """Another reader took over, or the batch was cancelled: stop writing."""


def _checkpoint(
    batch_id: str, token: str, chunk: list[store.NewJob], *, ingested: int, offset: int,
    line: int, seen: int, invalid: list[dict[str, Any]] | None, invalid_count: int,
    header: list[str] | None, done: bool = False,
) -> int:
    unwritten = children.write(chunk) if chunk else []
    if unwritten:
        raise RuntimeError(f"batch {batch_id}: {len(unwritten)} children not written; "
                           "the slice is retried from its checkpoint")
    if invalid is not None:
        table.put_invalid(batch_id, invalid)
    total = ingested + len(chunk)
    expression = ("SET Ingested = :n, IngestOffset = :o, IngestLine = :l, IngestItems = :k, "
                  "InvalidCount = :ic, IngestLeaseUntil = :until")
    values: dict[str, Any] = {":n": total, ":o": offset, ":l": line, ":k": seen,
                              ":ic": invalid_count, ":t": token, ":running": "RUNNING",
                              ":until": int(time.time()) + lease_seconds()}
    if header is not None:
        expression += ", CsvHeader = :h"
        values[":h"] = header
    if done:
        expression += ", IngestDone = :true, ItemsTotal = :n"
        values.update({":true": True, ":until": 0})
    meta = table.update_meta(batch_id, expression=expression,
                             condition="IngestToken = :t AND #s = :running",
                             names={"#s": "Status"}, values=values)
    if meta is None:
        raise LeaseLost(f"batch {batch_id}: ingestion lease lost or batch cancelled")
    counting.fill_window(batch_id, meta)
    counting.maybe_finish(batch_id, meta)
    return total
