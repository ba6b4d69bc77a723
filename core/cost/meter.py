"""Count every AWS request this process makes, by service, operation and cost class.

Hooks:
  * every boto3 client, ours and kombu's (``boto3.session.Session.client`` is
    wrapped once per process): ``before-call`` counts the request as it leaves (one
    still in flight at exit reached AWS too), ``after-call`` reads its answer: the
    messages a ReceiveMessage brought (its class), the DynamoDB capacity units
    (calls ask for ``ReturnConsumedCapacity=TOTAL``);
  * kombu's asynchronous SQS client (the worker's long polls and acks go through
    pycurl, not botocore's send): ``AsyncSQSConnection.make_request`` counts, and
    ``_on_list_ready`` reads a ReceiveMessage's messages.

Each request is put in one of two **cost classes** (:func:`core.cost.meter_classes.classify`):
``job`` (caused by submitting and running jobs) or ``fixed`` (what the fleet costs
whether or not jobs run: empty long polls, heartbeats, control traffic, meter writes,
set-up calls). DynamoDB calls add their capacity units twice: as the backend reported
them (``ConsumedCapacity``) and as computed from the items' sizes (core.cost.capacity,
:mod:`core.cost.meter_units`); the *billed* units are the computed ones unless the endpoint
is AWS itself (``BATCHLAB_METER_UNITS``).

Counts feed Prometheus (``batchlab_aws_requests_total``) and a snapshot that
:mod:`core.cost.costs` writes per minute and aggregates across processes.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import boto3.session

from core.cost import meter_classes, meter_units
from core.settings import settings

_CAPACITY_OPS = {
    "PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
}
CLASSES = ("job", "fixed")
UNIT_KINDS = ("readReported", "writeReported", "readComputed", "writeComputed",
              "readBilled", "writeBilled")


class Meter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()  # (service, operation) -> n
        # ("sqs.ReceiveMessage", "fixed") -> n
        self.by_class: Counter[tuple[str, str]] = Counter()
        self.units: Counter[tuple[str, str]] = Counter()  # (kind, class) -> units
        self.jobs: Counter[str] = Counter()
        self.listeners: list[Any] = []

    def count_job(self, event: str) -> None:
        """``created`` (API) or ``finished`` (worker): the per-job denominators."""
        with self.lock:
            self.jobs[event] += 1

    def count(self, service: str, operation: str, cost_class: str = "job") -> None:
        with self.lock:
            self.requests[(service, operation)] += 1
            self.by_class[(f"{service}.{operation}", cost_class)] += 1
        for listener in self.listeners:
            listener(service, operation)

    def reclassify(self, service: str, operation: str, cost_class: str) -> None:
        """Move one request counted ``fixed`` (a ReceiveMessage, counted as sent) to ``cost_class``."""
        if cost_class == "fixed":
            return
        call = f"{service}.{operation}"
        with self.lock:
            self.by_class[(call, "fixed")] -= 1
            self.by_class[(call, cost_class)] += 1

    def add_units(self, units: dict[str, float], cost_class: str) -> None:
        with self.lock:
            for kind, value in units.items():
                self.units[(kind, cost_class)] += value

    def snapshot(self) -> dict[str, Any]:
        """Cumulative counts: ``requests[class][call]``, ``units[class][kind]``, ``jobs``."""
        with self.lock:
            requests: dict[str, dict[str, int]] = {c: {} for c in CLASSES}
            for (call, cls), n in self.by_class.items():
                requests[cls][call] = n
            units: dict[str, dict[str, float]] = {c: {} for c in CLASSES}
            for (kind, cls), value in self.units.items():
                units[cls][kind] = round(value, 3)
            return {"requests": requests, "units": units, "jobs": dict(self.jobs)}


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


# The meter's own writes (core.cost.costs) are marked, so reports can show them apart.
METER_TABLE_MARK = "batchlab-meter"
_PARAMS = "batchlab-params"


def is_aws_endpoint(url: str | None) -> bool:
    host = urlparse(url or "").hostname or ""
    return host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")


def _bill_computed(endpoint_is_aws: bool) -> bool:
    mode = settings.meter_units
    return mode == "computed" or (mode == "auto" and not endpoint_is_aws)


def _call_name(service: str, operation: str, params: dict[str, Any]) -> str:
    if service == "dynamodb" and params.get("TableName") == settings.meters_table_name:
        return operation + ":meter"
    return operation


def _on_parameter_build(params: dict[str, Any], context: Any = None, **_: Any) -> None:
    # The call's own parameters (before-call gets the serialised request instead).
    if isinstance(context, dict):
        context[_PARAMS] = params


def _on_before_call(model: Any, context: Any = None, **_: Any) -> None:
    """Count the request as it leaves (a request still in flight at exit reached AWS too).
    A ReceiveMessage is ``fixed`` until its answer shows messages (:func:`_on_after_call`)."""
    params = _params(context)
    service = model.service_model.service_name
    meter().count(service, _call_name(service, model.name, params),
                  meter_classes.classify(service, model.name, params, {}))


def _params(context: Any) -> dict[str, Any]:
    return context.get(_PARAMS, {}) if isinstance(context, dict) else {}


def _on_after_call(http_response: Any, parsed: dict[str, Any], model: Any, context: Any = None,
                   *, endpoint_is_aws: bool = False, **_: Any) -> None:
    service = model.service_model.service_name
    params = _params(context)
    parsed = parsed or {}
    if model.name == "ReceiveMessage":
        meter().reclassify(service, model.name, meter_classes.classify(service, model.name, params, parsed))
    if service != "dynamodb" or model.name not in _CAPACITY_OPS:
        return
    status = getattr(http_response, "status_code", 200) or 200
    units = meter_units.units(model.name, params, parsed, status=status)
    reported = units["readReported"] + units["writeReported"]
    if _bill_computed(endpoint_is_aws) or (not reported and status < 300):
        units["readBilled"], units["writeBilled"] = units["readComputed"], units["writeComputed"]
    else:
        units["readBilled"], units["writeBilled"] = units["readReported"], units["writeReported"]
    meter().add_units(units, meter_classes.classify(service, model.name, params, parsed))


def _on_before_parameter_build(params: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name in _CAPACITY_OPS:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")


def instrument(client: Any) -> Any:
    events = client.meta.events
    endpoint_is_aws = is_aws_endpoint(getattr(client.meta, "endpoint_url", None))
    events.register("before-parameter-build.*.*", _on_parameter_build,
                    unique_id="batchlab-meter-params")
    events.register("before-call.*.*", _on_before_call, unique_id="batchlab-meter-sent")
    events.register("after-call.*.*",
                    functools.partial(_on_after_call, endpoint_is_aws=endpoint_is_aws),
                    unique_id="batchlab-meter-count")
    if client.meta.service_model.service_name == "dynamodb":
        events.register(
            "before-parameter-build.dynamodb.*",
            _on_before_parameter_build,
            unique_id="batchlab-meter-capacity-param",
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
    on_list_ready = AsyncSQSConnection._on_list_ready

    @functools.wraps(make_request)
    def counted(self: Any, operation_name: str, params: Any = None, queue_url: Any = "",
                *args: Any, **kwargs: Any) -> Any:
        # A ReceiveMessage counts as fixed until its messages are seen (listed below).
        meter().count("sqs", operation_name, meter_classes.classify(
            "sqs", operation_name, {"QueueUrl": str(queue_url or "")}, {}))
        return make_request(self, operation_name, params, queue_url, *args, **kwargs)

    @functools.wraps(on_list_ready)
    def listed(self: Any, parent: Any, markers: Any, operation: str, response: Any) -> Any:
        parsed = on_list_ready(self, parent, markers, operation, response)
        if operation == "ReceiveMessage":
            queue = getattr(parent, "name", None) or str(parent)
            meter().reclassify("sqs", operation, meter_classes.classify(
                "sqs", operation, {"QueueUrl": queue}, parsed if isinstance(parsed, dict) else {}))
        return parsed

    AsyncSQSConnection.make_request = counted  # type: ignore[method-assign]
    AsyncSQSConnection._on_list_ready = listed  # type: ignore[method-assign]
