"""Where a batch's pieces live. Pure: no I/O.

The Batches table, key (BatchId, Part):

=========================  ============  ==============================================
BatchId                    Part          what
=========================  ============  ==============================================
<id>                       meta          the batch (status, totals of rolled-up groups,
                                         open groups, ingestion checkpoint); the only
                                         item with OwnerId + CreatedAt (owner index)
<id>#c<stripe>             g#<group>     a group's counter: Completed / Failed /
                                         Cancelled number sets of its children's indexes,
                                         RolledUp (its tally, once rolled up), Kept
                                         (retry-failed: what the meta item still holds)
<id>#i                     invalid       the first invalid items (line, index, errors)
=========================  ============  ==============================================

A group is ``GROUP_SIZE`` consecutive children (one SendMessageBatch). Counter items
are spread over ``STRIPES`` partition keys, so their ADDs (one per finished child)
stay under DynamoDB's ~1,000 writes/s per partition key up to ~16,000 children/s;
the meta item takes one write per group (a tenth of the child rate) plus ingestion
checkpoints.
"""

from __future__ import annotations

import math
import uuid

GROUP_SIZE = 10  # children per group: one SendMessageBatch
STRIPES = 16  # partition keys the counter items are spread over
META = "meta"
INVALID_KEEP = 100  # invalid items kept with their errors (the rest are counted)
FAILURES_SHOWN = 20

_CHILD_NAMESPACE = uuid.UUID("0c8f4c1e-6a7d-4f55-9a0e-3d2b1c4e5f60")


def child_id(batch_id: str, index: int) -> str:
    """A child's JobId, derived from its batch and index: a resumed ingestion writes
    the same ids, and a group's message list needs no read."""
    return str(uuid.uuid5(_CHILD_NAMESPACE, f"{batch_id}:{index}"))


def group_of(index: int) -> int:
    return index // GROUP_SIZE


def group_indexes(group: int, total: int) -> range:
    """The child indexes of ``group`` in a batch of ``total`` children."""
    return range(group * GROUP_SIZE, min((group + 1) * GROUP_SIZE, total))


def group_count(children: int) -> int:
    return math.ceil(children / GROUP_SIZE)


def window_groups(window: int) -> int:
    """Groups a batch may have open (sent, not all finished): the window in whole groups."""
    return max(1, math.ceil(window / GROUP_SIZE))


def counter_key(batch_id: str, group: int) -> dict[str, dict[str, str]]:
    return {"BatchId": {"S": f"{batch_id}#c{group % STRIPES}"}, "Part": {"S": f"g#{group:07d}"}}


def counter_partitions(batch_id: str) -> list[str]:
    return [f"{batch_id}#c{stripe}" for stripe in range(STRIPES)]


def group_from_part(part: str) -> int:
    return int(part.removeprefix("g#"))


def meta_key(batch_id: str) -> dict[str, dict[str, str]]:
    return {"BatchId": {"S": batch_id}, "Part": {"S": META}}


def invalid_key(batch_id: str) -> dict[str, dict[str, str]]:
    return {"BatchId": {"S": f"{batch_id}#i"}, "Part": {"S": "invalid"}}


def results_key(batch_id: str, gen: int) -> str:
    """The results file of the batch's ``gen``-th end (a retry ends it again)."""
    return f"batches/{batch_id}/results-{gen}.jsonl"


def input_key(batch_id: str) -> str:
    """Where the API keeps inline items, as JSON Lines, for the ingestion task."""
    return f"batches/{batch_id}/input.jsonl"
