"""Batch use cases: what api/routes/batches.py calls. No HTTP, no boto3 here.

Each API call makes a bounded number of AWS requests (the API's 3 s bound per call):
submit: one HeadObject (an uploaded file) or one PutObject (inline items), one or two
PutItems, two SendMessages; GET: one GetItem of the meta item, then (while it runs)
one BatchGetItem of the open groups' counters and one of their unfinished children
and the failures shown; list: one Query and one BatchGetItem; cancel / retry-failed:
one conditional UpdateItem and one SendMessage, plus a GET; cancel also cancels the
sent children (≤ the window: a BatchGetItem, one UpdateItem and one counter ADD each).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from core.batches import children, counting, layout, lifecycle, progress, sending, table
from core.batches.ingest import INGEST_TASK
from core.batches.model import (
    ENDED,
    Batch,
    BatchCreate,
    BatchPage,
    BatchStatus,
    BatchSummary,
    Counts,
    Failure,
    InvalidItem,
    InvalidReport,
)
from core.batches.parsing import format_of, validate
from core.dynamo import decode_cursor, encode_cursor
from core.errors import (
    BackendUnavailable,
    BatchConflict,
    BatchNotFound,
    IdempotencyMismatch,
    InvalidCursor,
    InvalidPayload,
    InvalidRequest,
    UnknownJobType,
)
from core.jobs.hot import encode_json, now_iso
from core.jobs.job_types import REGISTRY
from core.jobs.service import resolve_owner
from core.settings import settings
from core.storage import objects, uploads

_IDEMPOTENCY_NAMESPACE = uuid.UUID("a7c2f9e4-5b1d-4e8a-9c3f-2d6e8b0a4f17")


def _request_hash(request: BatchCreate) -> str:
    canonical = request.model_dump_json(by_alias=True)
    import hashlib

    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _check_webhook(url: str | None) -> None:
    if url is None:
        return
    scheme = url.split(":", 1)[0].lower()
    if scheme not in settings.webhook_schemes:
        raise InvalidRequest([{"loc": ("webhookUrl",),
                               "msg": f"the URL must use {' or '.join(settings.webhook_schemes)}"}])


def submit(*, request: BatchCreate, key_owner: str | None,
           idempotency_key: str | None = None) -> tuple[Batch, bool]:
    """Validate, store the batch RUNNING, send its ingestion and sweep tasks.

    Steps:
      1. the type must exist; inline items are validated here (their line is their
         position + 1): allOrNothing with any invalid item is a 422 naming them; an
         uploaded object must be the owner's own and exist (one HeadObject);
      2. inline items go to S3 as JSON Lines (one PutObject), so one ingestion path
         (core.batches.ingest) reads both kinds;
      3. PutItem of the meta item (conditional: an Idempotency-Key repeat gets the
         first batch back), and of the first invalid items if any;
      4. SendMessage of the ingestion task and of the first sweep (delayed). If SQS
         refuses, the batch is marked CANCELLED and the client gets a 503.
    """
    owner = resolve_owner(request.owner_id, key_owner)
    job_type = REGISTRY.get(request.type)
    if job_type is None:
        raise UnknownJobType(request.type, list(REGISTRY))
    _check_webhook(request.webhook_url)
    if idempotency_key is None:
        batch_id = str(uuid.uuid4())
    else:
        batch_id = str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{owner}\n{idempotency_key}"))
        found = table.get_meta(batch_id, consistent=True)
        if found is not None:
            if found.get("RequestHash") != _request_hash(request):
                raise IdempotencyMismatch()
            return view(found), False
    invalid: list[dict[str, Any]] = []
    invalid_count = 0
    if request.items is not None:
        if len(request.items) > settings.batch_max_inline_items:
            raise InvalidRequest([{"loc": ("items",), "msg": f"at most {settings.batch_max_inline_items} "
                                   "inline items; upload a file for more"}])
        for index, item in enumerate(request.items):
            _, errors = validate(job_type.payload_model, item)
            if errors:
                invalid_count += 1
                if len(invalid) < layout.INVALID_KEEP:
                    invalid.append({"line": index + 1, "index": index, "errors": errors})
        if invalid_count and request.all_or_nothing:
            raise InvalidRequest([
                {"loc": ("items", bad["index"], *e["field"].split(".")),
                 "msg": f"line {bad['line']}: {e['message']}"}
                for bad in invalid for e in bad["errors"]])
        # Only the valid items go to the input file: the invalid ones are reported here
        # (InvalidCount, the invalid item), and ingestion numbers the children densely.
        key, fmt = layout.input_key(batch_id), "jsonl"
        bad = {entry["index"] for entry in invalid}
        if invalid_count > len(bad):  # more invalid than listed: find them all
            bad = {i for i, item in enumerate(request.items)
                   if validate(job_type.payload_model, item)[1]}
        data = "".join(encode_json(item) + "\n" for i, item in enumerate(request.items)
                       if i not in bad).encode("utf-8")
        objects.put_bytes(key, data, content_type="application/x-ndjson")
    else:
        key = request.object or ""
        try:
            uploads.check_reference(key=key, owner_id=owner, field="object")
        except InvalidPayload as exc:
            raise InvalidRequest(exc.errors) from exc
        fmt = format_of(key, request.format)
    created = now_iso()
    values: dict[str, Any] = {
        "BatchId": batch_id, "Part": layout.META, "OwnerId": owner, "CreatedAt": created,
        "Name": request.name, "Type": request.type, "Status": BatchStatus.RUNNING.value,
        "Gen": 0, "InputKey": key, "Format": fmt, "AllOrNothing": request.all_or_nothing,
        "Ingested": 0, "NextGroup": 0, "C": 0, "F": 0, "X": 0, "Rolled": 0,
        "InvalidCount": invalid_count,
        "ExpiresAt": int(time.time() + settings.job_ttl_hours * 3600),
    }
    if request.webhook_url:
        values["WebhookUrl"] = request.webhook_url
    if idempotency_key is not None:
        values["RequestHash"] = _request_hash(request)
    if invalid:
        table.put_invalid(batch_id, invalid)
    try:
        table.put_meta(values)
    except ClientError as exc:
        if table.is_conditional_failure(exc) and idempotency_key is not None:
            return get(batch_id, owner_id=owner), False
        raise
    try:
        sending.send_task(INGEST_TASK, batch_id)
        sending.send_task(lifecycle.SWEEP_TASK, batch_id, delay_seconds=settings.batch_sweep_seconds)
    except Exception as exc:
        table.update_meta(batch_id, expression="SET #s = :c, FinishedAt = :now",
                          names={"#s": "Status"}, values={":c": "CANCELLED", ":now": now_iso()})
        raise BackendUnavailable("the job queue is unavailable; the batch was not started") from exc
    return view(values, invalid=invalid), True


# --- reading -------------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00"))


def view(meta: dict[str, Any], *, detailed: bool = False,
         invalid: list[dict[str, Any]] | None = None) -> Batch:
    """The Batch from its meta item; ``detailed`` (GET of one batch) adds the open
    groups' counts, the running children, the failures, the invalid items and the
    results URL."""
    status = BatchStatus(meta["Status"])
    c, f, x = int(meta.get("C", 0)), int(meta.get("F", 0)), int(meta.get("X", 0))
    processing = 0
    failures: list[Failure] = []
    batch_id = meta["BatchId"]
    ingested = int(meta.get("Ingested", 0))
    if detailed:
        opened = sorted(int(g) for g in meta.get("Open", set()))
        counters = table.get_counters(batch_id, opened) if opened else {}
        pending: list[int] = []
        failed_indexes = sorted(int(i) for i in meta.get("FailedSample", set()))
        for group in opened:
            counter = counters.get(group, {})
            oc, of, ox, failed = counting.open_tally(counter)
            c, f, x = c + oc, f + of, x + ox
            failed_indexes += failed
            done = {int(i) for key in ("C", "F", "X") for i in counter.get(key, set())}
            pending += [i for i in layout.group_indexes(group, ingested) if i not in done]
        failed_indexes = sorted(set(failed_indexes))[: layout.FAILURES_SHOWN]
        wanted = sorted(set(pending) | set(failed_indexes))
        for item in children.get_children(batch_id, wanted) if wanted else []:
            index, state = int(item["BatchIndex"]["N"]), item["Status"]["S"]
            if index in pending and state == "PROCESSING":
                processing += 1
            if index in failed_indexes and state == "FAILED":
                failures.append(Failure(index=index, job_id=item["JobId"]["S"],
                                        error=item.get("LastError", {}).get("S")))
        if invalid is None and int(meta.get("InvalidCount", 0)):
            invalid = table.get_invalid(batch_id)
    total = int(meta["ItemsTotal"]) if "ItemsTotal" in meta else None
    figures = progress.Figures(ingested=ingested, total=total, completed=c, failed=f,
                               cancelled=x, processing=processing, ended=status in ENDED)
    finished_at = _when(meta.get("FinishedAt"))
    throughput, eta = progress.rate(figures, started=_when(meta.get("StartedAt")),
                                    until=finished_at or datetime.now(UTC))
    results_url = None
    if detailed and meta.get("ResultsKey"):
        results_url = objects.presigned_get(meta["ResultsKey"], filename=f"{batch_id}-results.jsonl")
    return Batch(
        id=batch_id, name=meta["Name"], type=meta["Type"], owner_id=meta["OwnerId"],
        status=status, total=total, ingested=ingested, counts=Counts(**progress.counts(figures)),
        progress=progress.percent(figures), created_at=_when(meta["CreatedAt"]),
        started_at=_when(meta.get("StartedAt")), finished_at=finished_at,
        throughput=throughput, eta_seconds=eta,
        invalid=InvalidReport(count=int(meta.get("InvalidCount", 0)),
                              items=[InvalidItem(**i) for i in (invalid or [])]),
        failures=failures, results_url=results_url, webhook_url=meta.get("WebhookUrl"),
    )


def _own_meta(batch_id: str, owner_id: str | None, *, consistent: bool = False) -> dict[str, Any]:
    meta = table.get_meta(batch_id, consistent=consistent)
    if meta is None or (owner_id is not None and meta["OwnerId"] != owner_id):
        raise BatchNotFound(batch_id)
    return meta


def get(batch_id: str, *, owner_id: str | None = None) -> Batch:
    return view(_own_meta(batch_id, owner_id), detailed=True)


def _decode_cursor(cursor: str, owner_id: str) -> dict[str, Any]:
    key = decode_cursor(cursor)
    if not isinstance(key, dict) or set(key) != {"BatchId", "Part", "OwnerId", "CreatedAt"} or not all(
            isinstance(v, str) for v in key.values()):
        raise InvalidCursor("the cursor is not one this API returned")
    if key["OwnerId"] != owner_id:
        raise InvalidCursor("the cursor belongs to another owner's listing")
    return key


def list_batches(*, owner_id: str, limit: int, cursor: str | None) -> BatchPage:
    """The owner's batches, newest first: one Query of the owner index, one BatchGetItem."""
    start = _decode_cursor(cursor, owner_id) if cursor else None
    ids, last = table.query_owner(owner_id, limit=limit, start=start)
    metas = table.get_metas(ids) if ids else {}
    items = [BatchSummary(**view(metas[i]).model_dump(exclude={"failures", "results_url"}))
             for i in ids if i in metas]
    return BatchPage(items=items, next_cursor=encode_cursor(last) if last else None)


# --- acting ----------------------------------------------------------------------------


def cancel(batch_id: str, *, owner_id: str | None = None) -> Batch:
    """CANCELLED now; the cancel task then cancels every unfinished child (409 if ended)."""
    _own_meta(batch_id, owner_id)
    meta = table.update_meta(
        batch_id, expression="SET #s = :c, FinishedAt = :now", condition="#s = :running",
        names={"#s": "Status"}, values={":c": "CANCELLED", ":now": now_iso(), ":running": "RUNNING"})
    if meta is None:
        raise BatchConflict("the batch has already ended")
    # The sent children (the open groups: at most the window) are cancelled here, so the
    # ones already in a worker's prefetch buffer never start and a running one stops at
    # its next check; the cancel task, which may wait behind them in the queue, does
    # the unsent rest.
    ingested = int(meta.get("Ingested", 0))
    for group in sorted(int(g) for g in meta.get("Open", set())):
        lifecycle.settle_group(batch_id, group, ingested=ingested, cancel=True)
    sending.send_task(lifecycle.CANCEL_TASK, batch_id)
    return view(table.get_meta(batch_id, consistent=True) or meta, detailed=True)


def retry_failed(batch_id: str, *, owner_id: str | None = None) -> Batch:
    """FAILED children QUEUED again (by the retry task); RUNNING again. 409 if none failed."""
    current = view(_own_meta(batch_id, owner_id, consistent=True), detailed=True)
    if current.status == BatchStatus.CANCELLED:
        raise BatchConflict("the batch was cancelled; nothing is retried")
    if current.counts.FAILED == 0:
        raise BatchConflict("no child of the batch has FAILED")
    meta = table.update_meta(
        batch_id,
        expression="SET #s = :running, Retrying = :t, Gen = Gen + :one "
                   "REMOVE FinishedAt, ResultsKey, SweepDue",
        condition="#s <> :c AND attribute_not_exists(Retrying)",
        names={"#s": "Status"},
        values={":running": "RUNNING", ":t": int(time.time()), ":one": 1, ":c": "CANCELLED"})
    if meta is None:
        raise BatchConflict("the batch changed (cancelled, or a retry is under way); try again")
    sending.send_task(lifecycle.RETRY_TASK, batch_id)
    if current.status != BatchStatus.RUNNING:  # its sweeper chain had stopped
        sending.send_task(lifecycle.SWEEP_TASK, batch_id, delay_seconds=settings.batch_sweep_seconds)
    return view(meta, detailed=True)


def results(batch_id: str, *, owner_id: str | None = None) -> tuple[str | None, Iterator[bytes] | None]:
    """(presigned URL of the results file, None) once the batch ended, else (None, the
    JSON Lines streamed from the children in index order, their current status)."""
    meta = _own_meta(batch_id, owner_id)
    if meta.get("ResultsKey") and BatchStatus(meta["Status"]) in ENDED:
        return objects.presigned_get(meta["ResultsKey"], filename=f"{batch_id}-results.jsonl"), None
    total = int(meta.get("Ingested", 0))

    def stream() -> Iterator[bytes]:
        for line in lifecycle.result_lines(batch_id, total):
            yield (json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n").encode()

    return None, stream()
