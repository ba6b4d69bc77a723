"""core/jobs/hot.py: the hot item stays under 1 KB whatever the payload, result and error."""

from __future__ import annotations

from core.jobs import hot, store
from core.jobs.status import JobStatus
from core.jobs.transitions import completed_size
from core.storage.item_size import item_size

LONGEST = {"owner_id": "o" * 64, "name": "n" * 100, "request_hash": b"h" * 16}


def new(payload: dict, **fields) -> store.NewJob:
    base = {"owner_id": "alice", "name": "hello", "request_hash": None} | fields
    return store.new_job(job_id="6f1d6c8e-2b8a-4c7e-9a51-3f0b7d2e9c44", type_="text-stats",
                         payload=payload, max_attempts=20, **base)


def worst_started(item: dict) -> dict:
    """The item as a late attempt started it: every attribute a PROCESSING job can have."""
    item = dict(item)
    entry = {"M": {"Status": {"S": "PROCESSING"}, "At": {"S": hot.now_iso()}}}
    # Issue 15: a bulk cancel's note on one entry, and the first start's time.
    noted = {"M": {**entry["M"], "Note": {"S": "bulk cancel"}}}
    item.update(Status={"S": "PROCESSING"}, Attempts={"N": "19"}, Progress={"N": "99"},
                StartedAt={"S": hot.now_iso()}, LeaseExpiresAt={"N": "1790000000"},
                History={"L": [noted] + [entry] * (hot.HISTORY_KEEP - 1)}, HistoryCount={"N": "38"},
                LastError={"S": "é" * 150}, FirstStartMs={"N": "1790000000123"})
    return item


def test_a_payload_goes_inline_to_an_item_or_to_s3_by_its_size():
    assert new({"text": "x" * 90}).payload.where == "inline"
    assert new({"text": "x" * 5000}).payload.where == "item"
    assert new({"text": "x" * 60_000}).payload.where == "s3"
    # A long name and owner leave less room: the same payload then goes out of line.
    assert new({"text": "x" * 250}).payload.where == "inline"
    assert new({"text": "x" * 250}, **LONGEST).payload.where == "item"


def test_the_worst_case_hot_item_stays_under_the_budget():
    for payload in ({"text": "x" * 200}, {"text": "x" * 5000}, {"text": "x" * 60_000}):
        for fields in ({}, LONGEST):
            job = new(payload, **fields)
            started = worst_started(job.item)
            error = hot.truncate_utf8("😀" * 2000, hot.error_room(started))
            # FAILED: the error at its longest plus everything a terminal write adds.
            failed = {k: v for k, v in started.items() if k != "LeaseExpiresAt"}
            failed.update(LastError={"S": error}, FinishedAt={"S": hot.now_iso()},
                          TerminalWrites={"N": "1"}, DeadLettered={"BOOL": True})
            assert item_size(failed) <= hot.HOT_ITEM_MAX, (payload.keys(), fields, item_size(failed))
            completed = completed_size(started, {"ResultIn": "s3", "ResultBytes": 10**9})
            assert completed <= hot.HOT_ITEM_MAX


def test_an_error_is_cut_on_a_character_boundary():
    cut = hot.truncate_utf8("é" * 400, 300)
    assert len(cut.encode()) <= 300 and cut.endswith("…")
    assert hot.truncate_utf8("short", 300) == "short"


def test_history_keeps_the_last_four_transitions():
    entry = hot.history_entry(JobStatus.QUEUED, "2026-01-01T00:00:00.000000Z")
    assert entry == {"Status": "QUEUED", "At": "2026-01-01T00:00:00.000000Z"}
    assert hot.HISTORY_KEEP == 4
