"""Capacity units from item sizes (core.cost.capacity, core.cost.meter_units), against hand-computed cases."""

from __future__ import annotations

import pytest

from core.cost import capacity, meter_classes, meter_units
from core.settings import settings
from core.storage.item_size import item_size

OWNER = capacity.Index("OwnerCreatedAt", ("OwnerId", "CreatedAt"))


def job(payload_bytes: int, **extra: dict) -> dict:
    return {
        "JobId": {"S": "j1"}, "OwnerId": {"S": "alice"}, "CreatedAt": {"S": "2026-01-01T00:00:00Z"},
        "Status": {"S": "QUEUED"}, "Payload": {"S": "x" * payload_bytes}, **extra,
    }


def test_write_units_are_per_started_kb_at_least_one():
    assert capacity.write_units(0) == 1
    assert capacity.write_units(1024) == 1
    assert capacity.write_units(1025) == 2
    assert capacity.write_units(50 * 1024 + 300) == 51


def test_read_units_are_per_started_4kb_halved_when_eventually_consistent():
    assert capacity.read_units(1, consistent=False) == 0.5
    assert capacity.read_units(4096, consistent=False) == 0.5
    assert capacity.read_units(4097, consistent=False) == 1.0
    assert capacity.read_units(13 * 1024, consistent=False) == 2.0  # 13 KB: 4 × 4 KB started
    assert capacity.read_units(13 * 1024, consistent=True) == 4.0


def test_a_put_of_a_new_job_pays_its_size_plus_one_index_write():
    item = job(50 * 1024)
    size = item_size(item)  # 51,200 + names and small values
    assert 50 * 1024 < size < 51 * 1024
    assert capacity.put_units(new=item, old=None, old_size=None, failed=False,
                              table_keys=("JobId",), indexes=(OWNER,)) == 51 + 1


def test_a_put_without_index_keys_pays_no_index_write():
    item = {"JobId": {"S": "j1#payload"}, "Data": {"S": "x" * 100}}
    assert capacity.put_units(new=item, old=None, old_size=None, failed=False,
                              table_keys=("JobId",), indexes=(OWNER,)) == 1


def test_a_failed_conditional_put_pays_the_existing_item_or_one():
    old = job(3000)  # 3 KB and a bit: 3 WRU
    assert capacity.put_units(new=job(10), old=old, old_size=None, failed=True) == 3
    assert capacity.put_units(new=job(10), old=None, old_size=None, failed=True) == 1


def test_an_update_pays_the_larger_of_before_and_after_and_no_index_write():
    assert capacity.update_units(old_size=50 * 1024 + 200, new_size=50 * 1024 + 260, failed=False) == 51
    assert capacity.update_units(old_size=900, new_size=2100, failed=False) == 3  # result added
    assert capacity.update_units(old_size=None, new_size=700, failed=False) == 1
    assert capacity.update_units(old_size=5000, new_size=None, failed=True) == 5
    before, after = job(10), job(10, Status={"S": "PROCESSING"})
    assert capacity.index_write_units(before, after, table_keys=("JobId",), indexes=(OWNER,)) == 0


def test_changing_an_index_key_is_a_delete_and_a_put_there():
    before, after = job(10), job(10, OwnerId={"S": "bob"})
    assert capacity.index_write_units(before, after, table_keys=("JobId",), indexes=(OWNER,)) == 2


def test_a_delete_pays_the_item_and_its_index_entry():
    assert capacity.delete_units(old=job(1500), old_size=None,
                                 table_keys=("JobId",), indexes=(OWNER,)) == 2 + 1


def test_query_sums_sizes_before_rounding_and_a_filter_scales_them():
    entries = [100] * 100  # 100 index entries of 100 bytes: 10,000 bytes, 3 × 4 KB started
    assert capacity.scan_units(entries, consistent=False) == 1.5
    assert capacity.scan_units([1000], consistent=False, scanned=10, count=1) == 1.5
    assert capacity.get_units(None, consistent=False) == 0.5  # a missing item: the minimum


# --- the meter's computation from a call's parameters and answer ---------------------


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(meter_units, "_sizes", {})


def call(operation: str, params: dict, parsed: dict | None = None, status: int = 200) -> dict:
    return meter_units.units(operation, {"TableName": settings.table_name, **params},
                             parsed or {}, status=status)


def test_a_50kb_job_costs_about_150_wru_put_start_finish(fresh_cache):
    """The issue's figure: ~50 WRU for the put, ~50 for the start, ~50 for the finish."""
    item = job(50 * 1024)
    put = call("PutItem", {"Item": item}, {"ConsumedCapacity": {"CapacityUnits": 1.0}})
    assert put["writeComputed"] == 52 and put["writeReported"] == 1.0
    started = {**item, "Status": {"S": "PROCESSING"}, "Attempts": {"N": "1"}}
    start = call("UpdateItem", {"Key": {"JobId": {"S": "j1"}}, "ReturnValues": "ALL_NEW"},
                 {"Attributes": started})
    assert start["writeComputed"] == 51
    renew = call("UpdateItem", {"Key": {"JobId": {"S": "j1"}}})  # no ALL_NEW: size before
    assert renew["writeComputed"] == 51
    poll = call("GetItem", {"Key": {"JobId": {"S": "j1"}}}, {"Item": started})
    assert poll["readComputed"] == 6.5  # 51.2 KB: 13 × 4 KB started, halved


def test_a_failed_conditional_update_pays_the_returned_old_item(fresh_cache):
    old = job(4000)
    parsed = {"Error": {"Code": "ConditionalCheckFailedException"}, "Item": old}
    assert call("UpdateItem", {"Key": {"JobId": {"S": "j1"}}}, parsed, status=400)["writeComputed"] == 4
    other = {"Error": {"Code": "ValidationException"}}
    assert call("UpdateItem", {"Key": {"JobId": {"S": "j1"}}}, other, status=400)["writeComputed"] == 0


def test_batch_write_pays_each_put_and_skips_unprocessed(fresh_cache):
    a, b = job(10), {**job(1500), "JobId": {"S": "j2"}}
    request = {"RequestItems": {settings.table_name: [{"PutRequest": {"Item": a}},
                                                      {"PutRequest": {"Item": b}}]}}
    assert call("BatchWriteItem", request)["writeComputed"] == (1 + 1) + (2 + 1)
    parsed = {"UnprocessedItems": {settings.table_name: [{"PutRequest": {"Item": b}}]}}
    assert call("BatchWriteItem", request, parsed)["writeComputed"] == 2


def test_batch_get_pays_each_item_and_missing_keys(fresh_cache):
    keys = [{"JobId": {"S": f"j{i}"}} for i in range(3)]
    parsed = {"Responses": {settings.table_name: [job(5000), job(10)]}}
    got = call("BatchGetItem", {"RequestItems": {settings.table_name: {"Keys": keys}}}, parsed)
    assert got["readComputed"] == 1.0 + 0.5 + 0.5


def test_a_projected_get_is_billed_for_the_whole_item_when_known(fresh_cache):
    call("PutItem", {"Item": job(9000)})
    small = {"JobId": {"S": "j1"}, "Status": {"S": "QUEUED"}}
    got = call("GetItem", {"Key": {"JobId": {"S": "j1"}}, "ProjectionExpression": "#s"}, {"Item": small})
    assert got["readComputed"] == 1.5  # 9 KB and a bit: 3 × 4 KB started, halved


# --- cost classes --------------------------------------------------------------


def test_classes_split_job_work_from_the_idle_fleet():
    jobs_url = f"http://q/123/{settings.queue_name}"
    events_url = "http://q/123/batchlab-events-flower-h-5555"
    classify = meter_classes.classify
    assert classify("sqs", "ReceiveMessage", {"QueueUrl": jobs_url}, {}) == "fixed"
    assert classify("sqs", "ReceiveMessage", {"QueueUrl": jobs_url},
                    {"Messages": [{"Body": "eyJ9"}]}) == "job"
    assert classify("sqs", "DeleteMessage", {"QueueUrl": jobs_url}, {}) == "job"
    heartbeat = '{"Message": "{\\"properties\\": {\\"delivery_info\\": {\\"routing_key\\": \\"worker.heartbeat\\"}}}"}'
    started = heartbeat.replace("worker.heartbeat", "task.started")
    assert classify("sqs", "ReceiveMessage", {"QueueUrl": events_url},
                    {"Messages": [{"Body": heartbeat}]}) == "fixed"
    assert classify("sqs", "DeleteMessageBatch", {"QueueUrl": events_url}, {}) == "fixed"
    assert classify("sqs", "ReceiveMessage", {"QueueUrl": events_url},
                    {"Messages": [{"Body": heartbeat}, {"Body": started}]}) == "job"
    assert classify("sqs", "DeleteMessageBatch", {"QueueUrl": events_url}, {}) == "job"
    entries = [{"Message": '{"properties": {"delivery_info": {"routing_key": "worker.heartbeat"}}}'}]
    assert classify("sns", "PublishBatch", {"PublishBatchRequestEntries": entries}, {}) == "fixed"
    entries.append({"Message": '{"properties": {"delivery_info": {"routing_key": "task.succeeded"}}}'})
    assert classify("sns", "PublishBatch", {"PublishBatchRequestEntries": entries}, {}) == "job"
    assert classify("dynamodb", "PutItem", {"TableName": settings.meters_table_name}, {}) == "fixed"
    assert classify("dynamodb", "Scan", {"TableName": settings.table_name}, {}) == "fixed"
    assert classify("dynamodb", "GetItem", {"TableName": settings.table_name}, {}) == "job"
    assert classify("sqs", "GetQueueUrl", {}, {}) == "fixed"
    assert classify("s3", "PutObject", {}, {}) == "job"
    assert classify("s3", "HeadBucket", {}, {}) == "fixed"
