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
   condition ``NextGroup`` (and ``Redo``) is what was read (one winner), and
   SendMessageBatch their children. Groups retry-failed took back come first (the
   ``Redo`` range, core.batches.lifecycle.retry_failed), so a retry goes through the
   window too. Ingestion calls it too after each checkpoint; both write before they
   read (roll-up / checkpoint, then a consistent read), so one of them always sees
   the other and a group is never left unsent by a race. A crash between the claim and
   the send is repaired by the sweeper (core.batches.lifecycle).
4. **finish**: when every group of a fully read batch is rolled up, the finish task
   is sent (core.batches.lifecycle.finish: results file, conditional end, webhook).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from core.batches import children, layout, sending, table
from core.settings import settings

log = logging.getLogger("batchlab.batches")

FINISH_TASK = "batchlab.batch_finish"
SAMPLE_MAX = 30
REDO_CHUNK = 50  # counters per BatchGetItem when the window looks for retried groups
REDO_CHUNKS = 4


def child_finished(item: dict[str, Any]) -> None:
    """Count a child that is terminal (``item``: its hot item, marshalled)."""
    batch_id = item["BatchId"]["S"]
    index = int(item["BatchIndex"]["N"])
    counter = table.count_child(batch_id, index=index, status=item["Status"]["S"])
    group_maybe_done(batch_id, layout.group_of(index), counter)


def open_tally(counter: dict[str, Any]) -> tuple[int, int, int, list[int]]:
    """:func:`tally` less what the meta item holds already of a group retry-failed took
    back (its ``Kept``): what a poll adds for an open group."""
    c, f, x, failed = tally(counter)
    kc, kf, kx = table.kept_of(counter)
    return c - kc, f - kf, x - kx, failed


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
    if not table.roll_up(batch_id, group=group, tally=(c, f, x), kept=table.kept_of(counter)):
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
    """Open and send groups until the batch has the window's worth open: first the
    groups retry-failed took back (the ``Redo`` range, in order), then never-sent ones.
    One conditional write claims them (``NextGroup`` and ``Redo`` as read: one winner),
    then they are sent. Returns the groups opened."""
    for _ in range(8):
        if meta.get("Status") != "RUNNING":
            return []  # cancelled or ended: nothing more is sent
        free = layout.window_groups(settings.batch_window) - len(meta.get("Open", set()))
        if free <= 0:
            return []
        redo = _redo_scan(batch_id, meta, free=free)
        next_group = int(meta.get("NextGroup", 0))
        want = max(0, min(free - len(redo.groups), ingested_groups(meta) - next_group))
        groups = list(range(next_group, next_group + want))
        moved = "Redo" in meta and redo.cursor != int(meta["Redo"])
        if not groups and not redo.groups and not moved:
            return []
        expression = "SET NextGroup = :n, StartedAt = if_not_exists(StartedAt, :now)"
        condition = "NextGroup = :seen AND #s = :running"
        values: dict[str, Any] = {":n": next_group + want, ":seen": next_group,
                                  ":running": "RUNNING", ":now": _now()}
        if "Redo" in meta:
            condition += " AND Redo = :redo_seen"
            values[":redo_seen"] = int(meta["Redo"])
            if redo.cursor is None:
                expression += " REMOVE Redo, RedoEnd"
            else:
                expression += ", Redo = :redo"
                values[":redo"] = redo.cursor
        else:
            condition += " AND attribute_not_exists(Redo)"
        opened = groups + list(redo.groups)
        names = {"#s": "Status"}
        if opened:  # (DynamoDB refuses a name the expressions do not use)
            expression += " ADD #open :g"
            values[":g"], names["#open"] = set(opened), "Open"
        updated = table.update_meta(batch_id, expression=expression, condition=condition,
                                    names=names, values=values)
        if updated is not None:
            ids = [layout.child_id(batch_id, i) for indexes in redo.groups.values() for i in indexes]
            if ids:
                children.send_ids(ids)
            if groups:
                children.send_groups(batch_id, groups, total=int(updated.get("Ingested", 0)))
            for group in [g for g, indexes in redo.groups.items() if not indexes]:
                # Nothing left to run (a stray duplicate ran it): roll it up now.
                group_maybe_done(batch_id, group, table.get_counters(batch_id, [group])[group])
            return opened
        meta = table.get_meta(batch_id, consistent=True) or {}
    log.warning("batch %s: the window could not be filled (contention); the sweeper will", batch_id)
    return []


@dataclass
class RedoScan:
    groups: dict[int, list[int]] = field(default_factory=dict)  # group -> indexes to send
    cursor: int | None = None  # the Redo range's new start; None once it is all passed


def _redo_scan(batch_id: str, meta: dict[str, Any], *, free: int) -> RedoScan:
    """Up to ``free`` groups of the ``Redo`` range to re-send, in order, from their
    counters (``REDO_CHUNK`` per BatchGetItem). The cursor passes groups rolled up or
    open; it stops, while the retry task runs, at a group with a FAILED child: that
    task has not requeued all of it yet (it goes in group order), so its children are
    sent only once they are all QUEUED. A group's children to send are the ones its
    counter does not hold (the requeued ones). Reads: ≤ REDO_CHUNK counters per
    BatchGetItem, strongly consistent (1 RRU each, ~100 bytes)."""
    if "Redo" not in meta:
        return RedoScan()
    cursor, end = int(meta["Redo"]), int(meta.get("RedoEnd", 0))
    opened = {int(g) for g in meta.get("Open", set())}
    ingested = int(meta.get("Ingested", 0))
    scan = RedoScan()
    for _ in range(REDO_CHUNKS):
        if cursor >= end or len(scan.groups) >= free:
            break
        chunk = [g for g in range(cursor, min(end, cursor + REDO_CHUNK)) if g not in opened]
        # Consistent: a stale read could show a group's RolledUp from before its
        # take-back, and the cursor would pass a group that waits.
        counters = table.get_counters(batch_id, chunk, consistent=True) if chunk else {}
        for group in range(cursor, min(end, cursor + REDO_CHUNK)):
            counter = counters.get(group, {})
            blocked = meta.get("Retrying") and tally(counter)[3]  # as retry_failed picks
            if group not in opened and (blocked or group not in counters):
                # Not all requeued yet, or its counter left unread (throttled; every
                # group of the range has one): stop here, a later refill goes on.
                scan.cursor = cursor
                return scan
            cursor = group + 1
            if group in opened or "RolledUp" in counter:
                continue
            counted = {int(i) for key in ("C", "F", "X") for i in counter.get(key, set())}
            scan.groups[group] = [i for i in layout.group_indexes(group, ingested) if i not in counted]
            if len(scan.groups) >= free:
                break
    scan.cursor = None if cursor >= end else cursor
    return scan


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
