"""Create everything BatchLab needs, idempotently: ``python -m core.bootstrap``.

Safe to run twice and against real AWS. ``--wait`` first retries until the
endpoints answer (used by the local stack, where moto starts alongside).
"""

from __future__ import annotations

import argparse
import logging
import sys

from botocore.exceptions import BotoCoreError, ClientError
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from core.aws import client
from core.cost import costs
from core.queues import ensure_queues, queue_urls
from core.settings import settings
from core.storage.objects import ensure_bucket

log = logging.getLogger("batchlab.bootstrap")


def _table_spec() -> dict:
    return {
        "TableName": settings.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "JobId", "AttributeType": "S"},
            {"AttributeName": "OwnerId", "AttributeType": "S"},
            {"AttributeName": "CreatedAt", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "JobId", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [_owner_index()],
    }


def _owner_index() -> dict:
    # KEYS_ONLY: see core.jobs.listing for why.
    return {
        "IndexName": settings.owner_index_name,
        "KeySchema": [
            {"AttributeName": "OwnerId", "KeyType": "HASH"},
            {"AttributeName": "CreatedAt", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def ensure_meters_table() -> None:
    """The small table where each process writes its AWS request counts per minute
    (core.cost.costs): key (Day, Slot), so a report Queries only its window's minutes."""
    ddb = client("dynamodb")
    try:
        table = ddb.describe_table(TableName=settings.meters_table_name)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        try:
            ddb.create_table(
                TableName=settings.meters_table_name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "Day", "AttributeType": "S"},
                                      {"AttributeName": "Slot", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "Day", "KeyType": "HASH"},
                           {"AttributeName": "Slot", "KeyType": "RANGE"}],
            )
        except ddb.exceptions.ResourceInUseException:
            pass
        ddb.get_waiter("table_exists").wait(TableName=settings.meters_table_name)
        table = ddb.describe_table(TableName=settings.meters_table_name)["Table"]
    keys = [k["AttributeName"] for k in table["KeySchema"]]
    if keys != ["Day", "Slot"]:
        # Issue 13 re-keyed it (was Process only); it holds a day of counts at most.
        raise SystemExit(
            f"table {settings.meters_table_name} has the old key {keys}: delete it "
            "(it only holds the last day's meter counts) and run the bootstrap again"
        )
    ttl = ddb.describe_time_to_live(TableName=settings.meters_table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        ddb.update_time_to_live(
            TableName=settings.meters_table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"},
        )


def _batches_table_spec() -> dict:
    """The Batches table (issue 14, contract in README "Batches"): key (BatchId, Part),
    TTL on ExpiresAt, and a KEYS_ONLY owner-created index that only meta items feed."""
    return {
        "TableName": settings.batches_table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "BatchId", "AttributeType": "S"},
            {"AttributeName": "Part", "AttributeType": "S"},
            {"AttributeName": "OwnerId", "AttributeType": "S"},
            {"AttributeName": "CreatedAt", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "BatchId", "KeyType": "HASH"},
                      {"AttributeName": "Part", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": settings.batches_owner_index_name,
            "KeySchema": [{"AttributeName": "OwnerId", "KeyType": "HASH"},
                          {"AttributeName": "CreatedAt", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    }


def ensure_batches_table() -> None:
    """Create the Batches table with its index and TTL if missing (idempotent)."""
    ddb = client("dynamodb")
    name = settings.batches_table_name
    try:
        ddb.describe_table(TableName=name)
    except ddb.exceptions.ResourceNotFoundException:
        log.info("creating table %s", name)
        try:
            ddb.create_table(**_batches_table_spec())
        except ddb.exceptions.ResourceInUseException:
            pass
        ddb.get_waiter("table_exists").wait(TableName=name)
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"})


def ensure_table() -> None:
    """Create the Jobs table, its owner index and TTL on ExpiresAt if missing."""
    ddb = client("dynamodb")
    try:
        table = ddb.describe_table(TableName=settings.table_name)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        log.info("creating table %s", settings.table_name)
        try:
            ddb.create_table(**_table_spec())
        except ddb.exceptions.ResourceInUseException:
            pass  # created concurrently by another bootstrap
        ddb.get_waiter("table_exists").wait(TableName=settings.table_name)
        table = ddb.describe_table(TableName=settings.table_name)["Table"]
    indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
    if settings.owner_index_name not in indexes:
        log.info("adding index %s", settings.owner_index_name)
        spec = _table_spec()
        ddb.update_table(
            TableName=settings.table_name,
            AttributeDefinitions=spec["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": _owner_index()}],
        )
    ttl = ddb.describe_time_to_live(TableName=settings.table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        ddb.update_time_to_live(
            TableName=settings.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"},
        )


@retry(
    retry=retry_if_exception_type((BotoCoreError, ClientError, OSError)),
    wait=wait_fixed(0.25),
    stop=stop_after_delay(60),
    reraise=True,
)
def _wait_for_backend() -> None:
    client("dynamodb").list_tables(Limit=1)
    client("sqs").list_queues(MaxResults=1)


@retry(
    retry=retry_if_exception_type(ClientError),
    wait=wait_fixed(0.25),
    stop=stop_after_delay(120),
    reraise=True,
)
def _wait_for_resources() -> None:
    queue_urls()
    table = client("dynamodb").describe_table(TableName=settings.table_name)["Table"]
    if table["TableStatus"] != "ACTIVE":
        raise ClientError({"Error": {"Code": "NotReady"}}, "DescribeTable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", action="store_true", help="retry until the endpoints answer")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only wait until the queues and table exist (create nothing)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if args.wait or args.check:
        _wait_for_backend()
    if args.check:
        _wait_for_resources()
        log.info("resources ready")
        costs.flush_once("bootstrap")
        return 0
    urls = ensure_queues()
    ensure_table()
    ensure_batches_table()
    ensure_meters_table()
    ensure_bucket()
    log.info("queue %s, dead-letter queue %s, table %s, bucket %s ready",
             urls.jobs, urls.dlq, settings.table_name, settings.bucket_name)
    # Every process is counted (issue 13): the bootstrap's calls too, once, at its end.
    costs.flush_once("bootstrap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
