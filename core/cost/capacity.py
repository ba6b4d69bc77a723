"""The capacity units AWS would bill for a DynamoDB call, computed from item sizes. Pure.

moto reports a flat 1.0 write unit per write and 0.5 read unit per read, whatever the
size (issue 13), so the meter (core.cost.meter) computes what AWS would charge from the items
the call carries, following the DynamoDB Developer Guide ("Capacity unit consumption"):

* **Writes** (PutItem, UpdateItem, DeleteItem): 1 WRU per started KB (1,024 bytes) of the
  larger of the item before and after the write (core.storage.item_size for the sizes), at least 1.
  A conditional write whose condition fails still costs: the size of the existing item
  (returned by ``ReturnValuesOnConditionCheckFailure=ALL_OLD``), or 1 if there is none.
* **Index writes**: a write that adds or removes an entry of a global secondary index
  costs its own WRU per started KB of the entry (KEYS_ONLY: the table's and the index's
  key attributes); changing an index key is a delete plus a put (2 writes); an update
  that touches no key of the index costs nothing there (KEYS_ONLY projects nothing else).
* **Reads**: GetItem, 1 RRU per started 4 KB (4,096 bytes) of the item, halved for an
  eventually consistent read; a missing item costs the minimum (0.5 / 1). Query and Scan:
  the sizes of the items read are *summed*, then rounded up to 4 KB (so 100 small index
  entries cost 0.5 RRU, not 50). BatchGetItem: each item on its own, as a GetItem.
  BatchWriteItem: each put or delete on its own, as PutItem/DeleteItem (no condition).

What the caller may not know, and the approximation taken (:class:`Sizes`):

* the size of an item *before* an UpdateItem/DeleteItem: the meter keeps the last size it
  saw per item in this process (every response that carries the item feeds it: PutItem's
  item, UpdateItem's ALL_NEW, ALL_OLD on a failed condition, GetItem, BatchGetItem,
  Query/Scan without projection); unknown, it takes the size after;
* the size *after* an UpdateItem without ``ReturnValues=ALL_NEW``: the size before (the
  lease renewal sets two numbers: a few bytes at most);
* a Query/Scan with a projection or a filter reads whole items: the returned sizes are
  scaled by ScannedCount/Count, and a cached full size is used where it is larger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from core.storage.item_size import AttributeValue, item_size

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096

Item = dict[str, AttributeValue]


@dataclass(frozen=True)
class Index:
    """A global secondary index, KEYS_ONLY: its entries hold the keys only."""

    name: str
    keys: tuple[str, ...]  # the index's key attributes (hash, range)


def write_units(size: int) -> int:
    """WRU for one write of an item of ``size`` bytes (at least 1)."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    """RRU for reading ``size`` bytes at once (one item, or a Query/Scan page's sum)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def index_entry(item: Item | None, *, table_keys: Iterable[str], index: Index) -> Item | None:
    """The KEYS_ONLY entry ``item`` has in ``index``, or None if it lacks an index key."""
    if item is None or any(k not in item for k in index.keys):
        return None
    names = dict.fromkeys((*table_keys, *index.keys))
    return {k: item[k] for k in names if k in item}


def index_write_units(
    old: Item | None, new: Item | None, *, table_keys: Iterable[str], indexes: Iterable[Index]
) -> int:
    """WRU the indexes cost when an item goes from ``old`` to ``new`` (None: absent).

    Same entry before and after (an update of non-key attributes): 0. Entry added or
    removed: one write. Entry changed (an index key changed): a delete and a put.
    """
    table_keys = tuple(table_keys)
    units = 0
    for index in indexes:
        before = index_entry(old, table_keys=table_keys, index=index)
        after = index_entry(new, table_keys=table_keys, index=index)
        if before == after:
            continue
        if before is not None:
            units += write_units(item_size(before))
        if after is not None:
            units += write_units(item_size(after))
    return units


def put_units(
    *,
    new: Item,
    old: Item | None,
    old_size: int | None,
    failed: bool,
    table_keys: Iterable[str] = (),
    indexes: Iterable[Index] = (),
) -> int:
    """PutItem (and a BatchWriteItem put). ``old``: the item it replaced, if known;
    ``failed``: its condition failed (nothing written, the existing item's size billed)."""
    if old is not None:
        old_size = item_size(old)
    if failed:
        return write_units(old_size or 0)
    units = write_units(max(item_size(new), old_size or 0))
    return units + index_write_units(old, new, table_keys=table_keys, indexes=indexes)


def update_units(
    *,
    old_size: int | None,
    new_size: int | None,
    failed: bool,
    index_units: int = 0,
) -> int:
    """UpdateItem: the larger of the sizes before and after (see the module's
    approximations when one is unknown); a failed condition bills the existing item."""
    if failed:
        return write_units(old_size or 0)
    sizes = [s for s in (old_size, new_size) if s is not None]
    return write_units(max(sizes, default=0)) + index_units


def delete_units(
    *, old: Item | None, old_size: int | None, failed: bool = False,
    table_keys: Iterable[str] = (), indexes: Iterable[Index] = (),
) -> int:
    """DeleteItem: the deleted item's size, plus its index entries."""
    if old is not None:
        old_size = item_size(old)
    units = write_units(old_size or 0)
    if failed:
        return units
    return units + index_write_units(old, None, table_keys=table_keys, indexes=indexes)


def get_units(size: int | None, *, consistent: bool) -> float:
    """GetItem (and each BatchGetItem key): a missing item (None) costs the minimum."""
    return read_units(size or 0, consistent=consistent)


def scan_units(
    sizes: Iterable[int], *, consistent: bool, scanned: int | None = None, count: int | None = None
) -> float:
    """Query/Scan page: the items' sizes summed, then rounded up to 4 KB. With a filter
    (``scanned`` > ``count``) the items read are more than those returned: scaled."""
    total = sum(sizes)
    if scanned and count and scanned > count:
        total = math.ceil(total * scanned / count)
    return read_units(total, consistent=consistent)
