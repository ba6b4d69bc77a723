"""Count every AWS request this process makes, by service and operation.

Hooks:
  * every boto3 client, ours and kombu's (``boto3.session.Session.client`` is
    wrapped once per process): a ``before-call`` handler counts the request;
    DynamoDB calls also ask for ``ReturnConsumedCapacity=TOTAL`` and the
    ``after-call`` handler adds the read/write units they consumed (indexes included);
  * kombu's asynchronous SQS client (ReceiveMessage on the worker's event loop
    goes through pycurl, not botocore's send): ``AsyncSQSConnection.make_request``.

Counts feed Prometheus (``batchlab_aws_requests_total``) and a snapshot that
:mod:`core.costs` aggregates across processes.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from typing import Any

import boto3.session

from core.settings import settings

_CAPACITY_OPS = {
    "PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
}
_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class Meter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self.jobs: Counter[str] = Counter()
        self.listeners: list[Any] = []

    def count_job(self, event: str) -> None:
        """``created`` (API) or ``finished`` (worker): the per-job denominators."""
        with self.lock:
            self.jobs[event] += 1

    def count(self, service: str, operation: str) -> None:
        with self.lock:
            self.requests[(service, operation)] += 1
        for listener in self.listeners:
            listener(service, operation)

    def add_capacity(self, operation: str, units: float) -> None:
        with self.lock:
            if operation in _WRITE_OPS:
                self.write_units += units
            else:
                self.read_units += units

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": {f"{s}.{o}": n for (s, o), n in self.requests.items()},
                "readUnits": round(self.read_units, 3),
                "writeUnits": round(self.write_units, 3),
                "jobs": dict(self.jobs),
            }


_meters: dict[int, Meter] = {}
_meters_lock = threading.Lock()


def meter() -> Meter:
    """This process's meter (a forked child starts from zero)."""
    pid = os.getpid()
    found = _meters.get(pid)
    if found is None:
        with _meters_lock:
            found = _meters.setdefault(pid, Meter())
    return found


# The meter's own writes (core.costs) are counted apart, so per-job figures
# can show them separately.
METER_TABLE_MARK = "batchlab-meter"


def _on_before_call(model: Any, params: dict[str, Any], context: Any = None, **_: Any) -> None:
    operation = model.name
    if isinstance(context, dict) and context.get(METER_TABLE_MARK):
        operation += ":meter"
    meter().count(model.service_model.service_name, operation)


def _on_before_parameter_build(
    params: dict[str, Any], model: Any, context: Any = None, **_: Any
) -> None:
    if model.name in _CAPACITY_OPS:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")
    if isinstance(context, dict) and params.get("TableName") == settings.meters_table_name:
        context[METER_TABLE_MARK] = True


def _on_after_call(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    consumed = parsed.get("ConsumedCapacity")
    if not consumed:
        return
    entries = consumed if isinstance(consumed, list) else [consumed]
    meter().add_capacity(model.name, sum(float(e.get("CapacityUnits", 0)) for e in entries))


def instrument(client: Any) -> Any:
    events = client.meta.events
    events.register("before-call.*.*", _on_before_call, unique_id="batchlab-meter-count")
    if client.meta.service_model.service_name == "dynamodb":
        events.register(
            "before-parameter-build.dynamodb.*",
            _on_before_parameter_build,
            unique_id="batchlab-meter-capacity-param",
        )
        events.register(
            "after-call.dynamodb.*", _on_after_call, unique_id="batchlab-meter-capacity"
        )
    return client


def install() -> None:
    """Hook every boto3 client made from now on, and kombu's async SQS client. Idempotent."""
    if getattr(boto3.session.Session.client, "_batchlab_metered", False):
        return
    original = boto3.session.Session.client

    @functools.wraps(original)
    def client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
        return instrument(original(self, *args, **kwargs))

    client._batchlab_metered = True  # type: ignore[attr-defined]
    boto3.session.Session.client = client  # type: ignore[method-assign]

    from kombu.asynchronous.aws.sqs.connection import AsyncSQSConnection

    make_request = AsyncSQSConnection.make_request

    @functools.wraps(make_request)
    def counted(self: Any, operation_name: str, *args: Any, **kwargs: Any) -> Any:
        meter().count("sqs", operation_name)
        return make_request(self, operation_name, *args, **kwargs)

    AsyncSQSConnection.make_request = counted  # type: ignore[method-assign]
