"""A DynamoDB call's capacity units, reported and computed, from its parameters and answer.

core.cost.meter calls :func:`units` after each DynamoDB call; core.cost.capacity holds the
rules. The sizes of items before an update or delete come from :data:`sizes`, a
per-process cache of the last size seen per item (see core.cost.capacity for what it is
fed and the approximations).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from typing import Any

from core.cost import capacity
from core.settings import settings
from core.storage.item_size import item_size

Item = dict[str, Any]
_CACHE_ITEMS = 10_000


class Sizes:
    """JobId (any table's key) -> (size, the item's index-key attributes), LRU-bounded."""

    def __init__(self, limit: int = _CACHE_ITEMS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str], tuple[int, Item]] = OrderedDict()

    @staticmethod
    def _key(table: str, key: Item) -> tuple[str, str]:
        return table, json.dumps(key, sort_keys=True)

    def get(self, table: str, key: Item) -> tuple[int, Item] | None:
        with self._lock:
            found = self._items.get(self._key(table, key))
            if found is not None:
                self._items.move_to_end(self._key(table, key))
            return found

    def put(self, table: str, item: Item) -> None:
        key_names, indexes = schema(table)
        if not key_names or any(k not in item for k in key_names):
            return
        kept = {k: item[k] for idx in indexes for k in idx.keys if k in item}
        kept.update({k: item[k] for k in key_names})
        with self._lock:
            k = self._key(table, {n: item[n] for n in key_names})
            self._items[k] = (item_size(item), kept)
            self._items.move_to_end(k)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def drop(self, table: str, key: Item) -> None:
        with self._lock:
            self._items.pop(self._key(table, key), None)


_sizes: dict[int, Sizes] = {}
_learned_keys: dict[str, tuple[str, ...]] = {}


def sizes() -> Sizes:
    """This process's cache (a forked child starts empty)."""
    return _sizes.setdefault(os.getpid(), Sizes())


def schema(table: str) -> tuple[tuple[str, ...], tuple[capacity.Index, ...]]:
    """The table's key attributes and KEYS_ONLY indexes (core.bootstrap creates them);
    another table's keys are learned from the Key of its first keyed call."""
    if table == settings.table_name:
        return ("JobId",), (capacity.Index(settings.owner_index_name, ("OwnerId", "CreatedAt")),)
    if table == settings.meters_table_name:
        return ("Day", "Slot"), ()
    if table == settings.batches_table_name:
        return ("BatchId", "Part"), (
            capacity.Index(settings.batches_owner_index_name, ("OwnerId", "CreatedAt")),)
    return _learned_keys.get(table, ()), ()


def _learn(table: str, key: Item) -> None:
    if table not in _learned_keys and table not in (
            settings.table_name, settings.meters_table_name, settings.batches_table_name):
        _learned_keys[table] = tuple(sorted(key))


def _reported(operation: str, parsed: dict[str, Any]) -> tuple[float, float]:
    consumed = parsed.get("ConsumedCapacity")
    if not consumed:
        return 0.0, 0.0
    entries = consumed if isinstance(consumed, list) else [consumed]
    total = sum(float(e.get("CapacityUnits", 0)) for e in entries)
    if operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
        return 0.0, total
    return total, 0.0


def _write(operation: str, params: dict[str, Any], parsed: dict[str, Any], failed: bool) -> int:
    table = params.get("TableName", "")
    keys, indexes = schema(table)
    cache = sizes()
    if operation == "PutItem":
        new = params.get("Item") or {}
        old = parsed.get("Item") if failed else parsed.get("Attributes")
        cached = cache.get(table, {k: new[k] for k in keys if k in new}) if keys else None
        units = capacity.put_units(
            new=new, old=old, old_size=cached[0] if cached else None, failed=failed,
            table_keys=keys, indexes=indexes,
        )
        if old is not None:
            cache.put(table, old)
        if not failed:
            cache.put(table, new)
        return units
    key = params.get("Key") or {}
    _learn(table, key)
    keys, indexes = schema(table)
    cached = cache.get(table, key)
    if operation == "UpdateItem":
        if failed:
            old = parsed.get("Item")
            if old is not None:
                cache.put(table, old)
            return capacity.update_units(
                old_size=item_size(old) if old is not None else None, new_size=None, failed=True)
        new = parsed.get("Attributes") if params.get("ReturnValues") == "ALL_NEW" else None
        index_units = 0
        if new is not None:
            if cached is not None:
                index_units = capacity.index_write_units(
                    cached[1], new, table_keys=keys, indexes=indexes)
            cache.put(table, new)
        return capacity.update_units(
            old_size=cached[0] if cached else None,
            new_size=item_size(new) if new is not None else None,
            failed=False, index_units=index_units,
        )
    # DeleteItem
    old = parsed.get("Attributes") or parsed.get("Item")
    cache.drop(table, key)
    if old is None and cached is not None:
        old = cached[1]
        return capacity.write_units(cached[0]) + (
            0 if failed else capacity.index_write_units(old, None, table_keys=keys, indexes=indexes))
    return capacity.delete_units(old=old, old_size=None, failed=failed,
                                 table_keys=keys, indexes=indexes)


def _read_size(table: str, item: Item, projected: bool) -> int:
    size = item_size(item)
    if projected:
        keys, _ = schema(table)
        cached = sizes().get(table, {k: item[k] for k in keys if k in item}) if keys else None
        if cached is not None:
            size = max(size, cached[0])
    else:
        sizes().put(table, item)
    return size


def _read(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> float:
    table = params.get("TableName", "")
    consistent = bool(params.get("ConsistentRead"))
    projected = bool(params.get("ProjectionExpression") or params.get("AttributesToGet"))
    if operation == "GetItem":
        _learn(table, params.get("Key") or {})
        item = parsed.get("Item")
        size = _read_size(table, item, projected) if item is not None else None
        return capacity.get_units(size, consistent=consistent)
    if operation in ("Query", "Scan"):
        on_index = bool(params.get("IndexName"))
        item_sizes = [
            item_size(i) if on_index else _read_size(table, i, projected)
            for i in parsed.get("Items") or []
        ]
        return capacity.scan_units(item_sizes, consistent=consistent,
                                   scanned=parsed.get("ScannedCount"), count=parsed.get("Count"))
    if operation == "BatchGetItem":
        units = 0.0
        responses = parsed.get("Responses") or {}
        unprocessed = parsed.get("UnprocessedKeys") or {}
        for name, request in (params.get("RequestItems") or {}).items():
            consistent = bool(request.get("ConsistentRead"))
            projected = bool(request.get("ProjectionExpression"))
            found = responses.get(name) or []
            for item in found:
                units += capacity.get_units(_read_size(name, item, projected), consistent=consistent)
            missing = (len(request.get("Keys") or []) - len(found)
                       - len((unprocessed.get(name) or {}).get("Keys") or []))
            units += max(0, missing) * capacity.get_units(None, consistent=consistent)
        return units
    return 0.0


def _batch_write(params: dict[str, Any], parsed: dict[str, Any]) -> int:
    units = 0
    unprocessed = parsed.get("UnprocessedItems") or {}
    for table, requests in (params.get("RequestItems") or {}).items():
        left = unprocessed.get(table) or []
        keys, indexes = schema(table)
        for request in requests:
            if request in left:
                continue  # not written, not billed
            if "PutRequest" in request:
                item = request["PutRequest"]["Item"]
                units += capacity.put_units(new=item, old=None, old_size=None, failed=False,
                                            table_keys=keys, indexes=indexes)
                sizes().put(table, item)
            elif "DeleteRequest" in request:
                key = request["DeleteRequest"]["Key"]
                cached = sizes().get(table, key)
                sizes().drop(table, key)
                units += capacity.delete_units(old=cached[1] if cached else None,
                                               old_size=cached[0] if cached else None,
                                               table_keys=keys, indexes=indexes)
    return units


def _transact_write(params: dict[str, Any]) -> int:
    """TransactWriteItems: AWS bills each item twice (prepare and commit), by its size
    as last seen (1 KB when unknown: the batch counters and roll-ups are tiny)."""
    units = 0
    for entry in params.get("TransactItems") or []:
        for request in entry.values():
            table, key = request.get("TableName", ""), request.get("Key") or {}
            cached = sizes().get(table, key) if key else None
            units += 2 * capacity.write_units(cached[0] if cached else 1)
    return units


def units(operation: str, params: dict[str, Any], parsed: dict[str, Any], *, status: int) -> dict[str, float]:
    """``readReported``, ``writeReported``, ``readComputed``, ``writeComputed`` of one call."""
    read_reported, write_reported = _reported(operation, parsed)
    code = (parsed.get("Error") or {}).get("Code")
    failed = code == "ConditionalCheckFailedException"
    read = write = 0.0
    if status < 300 or failed:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            write = float(_write(operation, params, parsed, failed))
        elif operation == "BatchWriteItem":
            write = float(_batch_write(params, parsed))
        elif operation == "TransactWriteItems":
            write = float(_transact_write(params))
        elif operation in ("GetItem", "Query", "Scan", "BatchGetItem"):
            read = _read(operation, params, parsed)
        else:  # transactions (not used): take the reported figure
            read, write = read_reported, write_reported
    return {"readReported": read_reported, "writeReported": write_reported,
            "readComputed": read, "writeComputed": write}
