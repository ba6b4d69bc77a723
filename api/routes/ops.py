"""/metrics (Prometheus) and /api/cost (requests per job, $ per million jobs)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import KeyOwnerDep
from core import costs, metrics

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics() -> Response:
    return Response(metrics.render(with_queue_depths=True), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/cost", response_model=costs.CostReport, tags=["cost"])
def cost(_: KeyOwnerDep) -> costs.CostReport:
    """AWS requests per job and $ per million jobs, summed over every API and worker
    process's meter (flushed every few seconds), beside the seed's cost model."""
    return costs.report()
