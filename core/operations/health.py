"""Readiness checks: is DynamoDB and SQS reachable, and do our resources exist?"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from core.aws import client
from core.queues import queue_urls
from core.settings import settings


def check_backends() -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        client("dynamodb").describe_table(TableName=settings.table_name)
        checks["dynamodb"] = "ok"
    except (BotoCoreError, ClientError) as exc:
        checks["dynamodb"] = type(exc).__name__
    try:
        client("sqs").get_queue_attributes(
            QueueUrl=queue_urls().jobs, AttributeNames=["QueueArn"]
        )
        checks["sqs"] = "ok"
    except (BotoCoreError, ClientError) as exc:
        checks["sqs"] = type(exc).__name__
    return checks
