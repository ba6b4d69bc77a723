"""A batch's end, cancel, retry-failed and the sweeper (each run by a worker task).

* **finish** (:func:`finish`): once every group is rolled up, write the results file
  (``batches/<id>/results-<gen>.jsonl``, JSON Lines in item order, multipart when
  large), then one conditional write on the meta item ends the batch (Status RUNNING
  and this Gen → COMPLETED / COMPLETED_WITH_FAILURES, ResultsKey): exactly one run
  wins, and the file exists before any reader can see the key. The winner sends the
  webhook task. A cancelled batch gets its file and ResultsKey the same way.
* **cancel** (:func:`cancel_children`): after the API marked the batch CANCELLED,
  every child not yet finished is cancelled with its own conditional write (which
  counts it: core.jobs.transitions → counting); unsent groups are never sent (the window
  only fills a RUNNING batch); running children stop at their next is_cancelled().
* **retry-failed** (:func:`retry_failed`): the groups with FAILED children that are
  not open become the meta item's ``Redo`` range (widened, never narrowed: two numbers,
  the meta item stays small). Then per group, in order: take its FAILED children back
  off the meta item (once, conditional on its tally; its COMPLETED / CANCELLED ones stay
  counted, as the counter's ``Kept``), requeue each failed child (FAILED → QUEUED, with
  a fresh set of attempts), take its index out of the FAILED set. They are *not* sent
  here: the window (core.batches.counting.fill_window) re-sends the range's groups in
  order as slots free up, a group only once its FAILED set is empty (all of it
  requeued), so at most the window's worth of a batch's children is queued or running,
  during a retry too (issue 14, fairness). A group still open (sent, not finished)
  is in the window already: its requeued children are sent at once. A crash: the task
  runs again (acks_late, or the sweeper after 120 s) and redoes what is left; a
  child is requeued once (FAILED → QUEUED is conditional) and counted once (sets).
* **sweep** (:func:`sweep`): every ``batch_sweep_seconds`` while a batch runs (a
  delayed task message, one chain per batch: ``SweepDue`` is claimed conditionally).
  If nothing moved since the last sweep it repairs: recounts the meta item's totals
  from the counters (a roll-up cut in half by a crash), counts terminal children of open
  groups again (a crash between a child's terminal write and its count), re-sends
  their QUEUED children (a lost refill), fills the window, re-sends ingestion if its
  lease ran out, and sends finish if due. Duplicates it causes are harmless.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from core.batches import children, counting, layout, sending, table
from core.batches.model import ENDED, BatchStatus
from core.jobs import store
from core.jobs.hot import now_iso
from core.jobs.job_types import REGISTRY
from core.jobs.status import TERMINAL, JobStatus
from core.settings import settings
from core.storage import objects

log = logging.getLogger("batchlab.batches")

SWEEP_TASK = "batchlab.batch_sweep"
WEBHOOK_TASK = "batchlab.batch_webhook"
CANCEL_TASK = "batchlab.batch_cancel"
RETRY_TASK = "batchlab.batch_retry"
PART_BYTES = 8 * 1024 * 1024  # results file parts (S3: at least 5 MiB but the last)
PAGE = 100  # children per BatchGetItem


def result_lines(batch_id: str, total: int):
    """Every child's results line in index order (100 per BatchGetItem)."""
    for start in range(0, total, PAGE):
        for item in children.get_full_children(batch_id, list(range(start, min(start + PAGE, total)))):
            yield children.result_line(item)


def write_results(batch_id: str, *, total: int, gen: int) -> str:
    """Write the results file in bounded memory (parts of PART_BYTES); its key."""
    key = layout.results_key(batch_id, gen)
    buffer = bytearray()
    upload_id: str | None = None
    parts: list[tuple[int, str]] = []
    for line in result_lines(batch_id, total):
        buffer += (json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        if len(buffer) >= PART_BYTES:
            if upload_id is None:
                upload_id = objects.create_multipart(key, content_type="application/x-ndjson")
            number = len(parts) + 1
            parts.append((number, objects.upload_part(key, upload_id=upload_id,
                                                      part_number=number, data=bytes(buffer))))
            buffer.clear()
    if upload_id is None:
        objects.put_bytes(key, bytes(buffer), content_type="application/x-ndjson")
    else:
        if buffer:
            number = len(parts) + 1
            parts.append((number, objects.upload_part(key, upload_id=upload_id,
                                                      part_number=number, data=bytes(buffer))))
        objects.complete_multipart(key, upload_id=upload_id, parts=parts)
    return key


def finish(batch_id: str) -> str:
    meta = table.get_meta(batch_id, consistent=True)
    if meta is None or not counting.is_complete(meta) or meta.get("ResultsKey"):
        return "not due"
    gen = int(meta.get("Gen", 0))
    key = write_results(batch_id, total=int(meta.get("Ingested", 0)), gen=gen)
    if meta.get("Status") == "CANCELLED":
        ended = table.update_meta(
            batch_id, expression="SET ResultsKey = :k",
            condition="#s = :c AND attribute_not_exists(ResultsKey)",
            names={"#s": "Status"}, values={":k": key, ":c": "CANCELLED"})
    else:
        final = BatchStatus.COMPLETED_WITH_FAILURES if int(meta.get("F", 0)) else BatchStatus.COMPLETED
        ended = table.update_meta(
            batch_id, expression="SET #s = :final, ResultsKey = :k, FinishedAt = :now",
            condition="#s = :running AND Gen = :gen AND attribute_not_exists(Retrying) "
                      "AND attribute_not_exists(ResultsKey)",
            names={"#s": "Status"},
            values={":final": final.value, ":k": key, ":now": now_iso(), ":running": "RUNNING",
                    ":gen": gen})
    if ended is None:
        return "ended by another run"
    log.info("batch %s ended %s", batch_id, ended["Status"])
    if ended.get("WebhookUrl"):
        sending.send_task(WEBHOOK_TASK, batch_id, 1)
    return "ended"


def cancel_children(batch_id: str) -> str:
    """Cancel every unfinished child of a CANCELLED batch (a slice at a time)."""
    meta = table.get_meta(batch_id, consistent=True)
    if meta is None or meta.get("Status") != "CANCELLED" or meta.get("ResultsKey"):
        return "nothing to do"
    deadline = time.monotonic() + settings.batch_ingest_slice_seconds
    ingested = int(meta.get("Ingested", 0))
    counters = table.all_counters(batch_id)
    for group in range(layout.group_count(ingested)):
        if "RolledUp" in counters.get(group, {}):
            continue
        if time.monotonic() > deadline:
            sending.send_task(CANCEL_TASK, batch_id)
            return "slice done; the next one is sent"
        settle_group(batch_id, group, ingested=ingested, cancel=True)
    counting.maybe_finish(batch_id, table.get_meta(batch_id, consistent=True) or {})
    return "cancelled"


def settle_group(batch_id: str, group: int, *, ingested: int, cancel: bool) -> list[str]:
    """Count the group's terminal children again (idempotent), cancel (``cancel``) or
    collect (to re-send) its QUEUED ones; the JobIds collected."""
    queued: list[str] = []
    for item in children.get_children(batch_id, list(layout.group_indexes(group, ingested))):
        status = JobStatus(item["Status"]["S"])
        if status in TERMINAL:
            counting.child_finished({**item, "BatchId": {"S": batch_id}})
        elif cancel:
            store.cancel_job(item["JobId"]["S"])  # counts it (core.jobs.transitions)
        elif status == JobStatus.QUEUED:
            queued.append(item["JobId"]["S"])
    counter = table.get_counters(batch_id, [group]).get(group)
    if counter is not None:
        counting.group_maybe_done(batch_id, group, counter)
    return queued


def retry_failed(batch_id: str) -> str:
    """Requeue every FAILED child; the window sends them (see the module docstring)."""
    meta = table.get_meta(batch_id, consistent=True)
    if meta is None or not meta.get("Retrying"):
        return "nothing to do"
    job_type = REGISTRY.get(meta["Type"])
    attempts = job_type.max_attempts if job_type else settings.default_max_attempts
    opened = {int(g) for g in meta.get("Open", set())}
    counters = table.all_counters(batch_id, with_failures=True)
    targets = {g: failed for g, counter in sorted(counters.items())
               if (failed := counting.tally(counter)[3])}
    # Open groups (sent, not rolled up) are in the window already: their requeued
    # children are sent here. The others wait in the Redo range for the window.
    fed = [g for g in targets if g not in opened or "RolledUp" in counters[g]]
    if fed:
        table.widen_redo(batch_id, first=fed[0], end=fed[-1] + 1)
    requeued = 0
    for group, failed in targets.items():
        if "RolledUp" in counters[group]:
            table.unroll(batch_id, group=group, tally=list(counters[group]["RolledUp"]))
        ids = []
        for index in failed:
            child = layout.child_id(batch_id, index)
            # Requeue first, then uncount: a crash between leaves the child counted
            # FAILED and QUEUED; a repeat of this task finds it not FAILED and only
            # uncounts it. (Uncounting first could lose a FAILED child from the counts.)
            store_result = _requeue(child, attempts)
            table.uncount_failed(batch_id, index=index)
            if store_result:
                ids.append(child)
        requeued += len(ids)
        if group in fed:
            # Its FAILED set is empty now: the window may send it (a slot may be free).
            counting.fill_window(batch_id, table.get_meta(batch_id, consistent=True) or {})
        elif ids:
            children.send_ids(ids)
    meta = table.update_meta(batch_id, expression="REMOVE Retrying, FailedSample",
                             condition="attribute_exists(Retrying)")
    if meta is not None:
        counting.fill_window(batch_id, meta)
        counting.maybe_finish(batch_id, meta)
    return f"{requeued} children requeued"


def _requeue(job_id: str, attempts: int) -> bool:
    from core.jobs.requeue import requeue_batch_child

    return requeue_batch_child(job_id, max_attempts=attempts).ok


def sweep(batch_id: str) -> str:
    """One sweep (see the module docstring); reschedules itself while needed."""
    meta = table.get_meta(batch_id, consistent=True)
    if meta is None:
        return "gone"
    status = BatchStatus(meta["Status"])
    if status in ENDED and meta.get("ResultsKey"):
        return "ended"  # the webhook task retries on its own
    now = int(time.time())
    seen = meta.get("SweepDue")
    progress = [int(meta.get(k, 0)) for k in ("Rolled", "Ingested", "C", "F", "X")]
    claimed = table.update_meta(
        batch_id, expression="SET SweepDue = :due, SweepSeen = :p",
        condition="attribute_not_exists(SweepDue)" if seen is None else "SweepDue = :seen",
        values={":due": now + settings.batch_sweep_seconds, ":p": progress,
                **({} if seen is None else {":seen": seen})})
    if claimed is None:
        return "another sweep chain runs"
    if [int(v) for v in meta.get("SweepSeen", [])] == progress:
        _repair(batch_id, meta)
    sending.send_task(SWEEP_TASK, batch_id, delay_seconds=settings.batch_sweep_seconds)
    return "swept"


def _repair(batch_id: str, meta: dict[str, Any]) -> None:
    """Nothing moved for a sweep interval: heal whatever a crash may have left."""
    log.info("batch %s made no progress since the last sweep; repairing", batch_id)
    if meta.get("Status") == "CANCELLED":
        sending.send_task(CANCEL_TASK, batch_id)
        return
    if meta.get("Retrying"):
        # Its task may have died (acks_late brings it back too); not while it may run.
        if time.time() - int(meta["Retrying"]) > 120:
            sending.send_task(RETRY_TASK, batch_id)
        return
    meta = table.recount(batch_id, meta) or meta  # a roll-up cut in half by a crash
    if not meta.get("IngestDone") and int(meta.get("IngestLeaseUntil", 0)) < time.time():
        from core.batches.ingest import INGEST_TASK

        sending.send_task(INGEST_TASK, batch_id)
    ingested = int(meta.get("Ingested", 0))
    resend: list[str] = []
    for group in sorted(int(g) for g in meta.get("Open", set())):
        resend += settle_group(batch_id, group, ingested=ingested, cancel=False)
    if resend:
        children.send_ids(resend)
    fresh = table.get_meta(batch_id, consistent=True) or meta
    counting.fill_window(batch_id, fresh)
    counting.maybe_finish(batch_id, fresh)
