"""Prometheus metrics for the API and the workers.

The API serves /metrics: from the default registry if it is one process, or, with
PROMETHEUS_MULTIPROC_DIR set (an empty directory; ``scripts/run`` sets one), for all
its uvicorn processes (WEB_CONCURRENCY, one per core). A worker is two processes
(Celery's main process polls SQS, its pool child runs jobs), so workers always run in
prometheus-client's multiprocess mode: set PROMETHEUS_MULTIPROC_DIR (an empty
directory per worker) and BATCHLAB_WORKER_METRICS_PORT; the main process then serves
both processes' metrics on that port (see tasks/celery_app.py).
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from core.cost import meter
from core.settings import settings

HTTP_REQUESTS = Counter(
    "batchlab_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "batchlab_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS_CREATED = Counter("batchlab_jobs_created_total", "Jobs accepted by the API", ["type"])
JOBS_FINISHED = Counter(
    "batchlab_jobs_finished_total", "Jobs that reached a terminal status", ["type", "status"]
)
JOBS_RETRIED = Counter("batchlab_jobs_retried_total", "Failed attempts that will be retried", ["type"])
JOB_DURATION = Histogram(
    "batchlab_job_duration_seconds",
    "Handler run time per attempt",
    ["type"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
)
AWS_REQUESTS = Counter(
    "batchlab_aws_requests_total", "AWS requests by service and operation", ["service", "operation"]
)


def _count_aws(service: str, operation: str) -> None:
    AWS_REQUESTS.labels(service, operation).inc()


def track_aws() -> None:
    """Mirror this process's AWS request counts into Prometheus."""
    listeners = meter.meter().listeners
    if _count_aws not in listeners:
        listeners.append(_count_aws)


class QueueDepthCollector:
    """Queue depths read from SQS at scrape time (two GetQueueAttributes per scrape)."""

    def collect(self):
        from core.queues import queue_depths

        gauge = GaugeMetricFamily(
            "batchlab_queue_messages", "SQS approximate message counts", labels=["queue", "state"]
        )
        try:
            depths = queue_depths()
        except Exception:  # noqa: BLE001 - a scrape must not fail because SQS is down
            return
        names = {"jobs": settings.queue_name, "dlq": settings.dlq_name}
        for role, d in depths.items():
            for state, value in d.items():
                gauge.add_metric([names[role], state], value)
        yield gauge


def multiprocess_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def render(*, with_queue_depths: bool) -> bytes:
    if settings.prometheus_multiproc_dir:
        registry = multiprocess_registry()
    else:
        from prometheus_client import REGISTRY as registry
    output = generate_latest(registry)
    if with_queue_depths:
        extra = CollectorRegistry()
        extra.register(QueueDepthCollector())
        output += generate_latest(extra)
    return output
