"""Exact counts and the feeding window: what happens when a child finishes.

Steps, each idempotent, so any of them may run again after a crash or a duplicate
delivery and change nothing the first run did:

1. **count** (:func:`child_finished`): right after the child's conditional terminal
   write succeeded (core.jobs.transitions calls it), and again whenever a duplicate
   delivery finds the child terminal, ``ADD <C|F|X> :{index}`` on the group's
   counter item. A number set holds an index once, so a repeat never counts twice,
   and the repeat on redelivery heals a crash between the two writes.
2. **roll up** (:func:`group_maybe_done`): once a group's sets hold all its children,
   ``RolledUp`` is set on the counter (on condition it was not: one winner), then the
   group's tally is added to the meta item (C/F/X, Rolled) and it leaves ``Open``. A
   crash between the two is repaired by the sweeper's recount. A poll reads the meta
   item and the few open groups' counters, never all groups.
3. **refill** (:func:`fill_window`): open the next groups up to the window, on
   condition ``NextGroup`` is what was read (one winner), and SendMessageBatch their
   children. Ingestion calls it too after each checkpoint; both write before they
   read (roll-up / checkpoint, then a consistent read), so one of them always sees
   the other and a group is never left unsent by a race. A crash between the claim and
   the send is repaired by the sweeper (core.batches.lifecycle).
4. **finish**: when every group of a fully read batch is rolled up, the finish task
   is sent (core.batches.lifecycle.finish: results file, conditional end, webhook).
"""

from __future__ import annotations

import logging
from typing import Any

from core.batches import children, layout, sending, table
from core.settings import settings

log = logging.getLogger("batchlab.batches")

FINISH_TASK = "batchlab.batch_finish"
SAMPLE_MAX = 30


def child_finished(item: dict[str, Any]) -> None:
    """Count a child that is terminal (``item``: its hot item, marshalled)."""
    batch_id = item["BatchId"]["S"]
    index = int(item["BatchIndex"]["N"])
    counter = table.count_child(batch_id, index=index, status=item["Status"]["S"])
    group_maybe_done(batch_id, layout.group_of(index), counter)


def tally(counter: dict[str, Any]) -> tuple[int, int, int, list[int]]:
    """(completed, failed, cancelled, failed indexes) of a counter. A child in two sets
    (a retried child that finished again before its FAILED mark was taken back) counts
    once: COMPLETED, then CANCELLED, then FAILED."""
    done = {int(i) for i in counter.get("C", set())}
    cancelled = {int(i) for i in counter.get("X", set())} - done
    failed = {int(i) for i in counter.get("F", set())} - done - cancelled
    return len(done), len(failed), len(cancelled), sorted(failed)


def group_size(counter: dict[str, Any]) -> int:
    # Only the last group may be short: ingestion writes its GroupLen before sending it.
    return int(counter.get("GroupLen", layout.GROUP_SIZE))


def group_maybe_done(batch_id: str, group: int, counter: dict[str, Any]) -> None:
    if "RolledUp" in counter:
        return
    c, f, x, failed = tally(counter)
    if c + f + x < group_size(counter):
        return
    if not table.roll_up(batch_id, group=group, tally=(c, f, x)):
        return  # rolled up by a concurrent or earlier run
    meta = table.get_meta(batch_id, consistent=True)
    if meta is None:
        return
    if failed and len(meta.get("FailedSample", ())) < SAMPLE_MAX:
        table.update_meta(batch_id, expression="ADD FailedSample :fs",
                          values={":fs": set(failed[: layout.FAILURES_SHOWN])})
    fill_window(batch_id, meta)
    maybe_finish(batch_id, meta)


def ingested_groups(meta: dict[str, Any]) -> int:
    """Groups whose children are all written: whole groups, and the last one once
    the input is read to its end."""
    ingested = int(meta.get("Ingested", 0))
    if meta.get("IngestDone"):
        return layout.group_count(ingested)
    return ingested // layout.GROUP_SIZE


def fill_window(batch_id: str, meta: dict[str, Any]) -> list[int]:
    """Open and send groups until the batch has the window's worth open; the groups sent."""
    for _ in range(8):
        if meta.get("Status") != "RUNNING":
            return []  # cancelled or ended: nothing more is sent
        opened = {int(g) for g in meta.get("Open", set())}
        next_group = int(meta.get("NextGroup", 0))
        want = min(layout.window_groups(settings.batch_window) - len(opened),
                   ingested_groups(meta) - next_group)
        if want <= 0:
            return []
        groups = list(range(next_group, next_group + want))
        updated = table.update_meta(
            batch_id, expression="SET NextGroup = :n, StartedAt = if_not_exists(StartedAt, :now)"
            " ADD #open :g",
            condition="NextGroup = :seen AND #s = :running",
            names={"#open": "Open", "#s": "Status"},
            values={":n": next_group + want, ":g": set(groups), ":seen": next_group,
                    ":running": "RUNNING", ":now": _now()},
        )
        if updated is not None:
            children.send_groups(batch_id, groups, total=int(updated.get("Ingested", 0)))
            return groups
        meta = table.get_meta(batch_id, consistent=True) or {}
    log.warning("batch %s: the window could not be filled (contention); the sweeper will", batch_id)
    return []


def is_complete(meta: dict[str, Any]) -> bool:
    """Every ingested group rolled up, and nothing more to come."""
    if meta.get("Retrying") or meta.get("Open"):
        return False
    ingested = int(meta.get("Ingested", 0))
    done_reading = bool(meta.get("IngestDone")) or meta.get("Status") == "CANCELLED"
    return done_reading and int(meta.get("Rolled", 0)) >= layout.group_count(ingested)


def maybe_finish(batch_id: str, meta: dict[str, Any]) -> None:
    if is_complete(meta) and not meta.get("ResultsKey"):
        sending.send_task(FINISH_TASK, batch_id)


def _now() -> str:
    from core.jobs.hot import now_iso

    return now_iso()
