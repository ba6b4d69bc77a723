"""/metrics (Prometheus) and /api/cost (requests per job, $ per million jobs).

Both show every tenant's activity, so in API-key mode they need an operator key.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import OPERATOR_ONLY, OperatorDep
from core import costs, metrics

router = APIRouter()

_PROBLEM = {"content": {"application/problem+json": {}}}


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(_: OperatorDep) -> Response:
    # Operator only in API-key mode: jobs created per type, queue depths and route
    # counts are every tenant's. Prometheus sends the key with its scrape config's
    # `http_headers` (README "Access").
    return Response(metrics.render(with_queue_depths=True), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/cost",
    response_model=costs.CostReport,
    tags=["cost"],
    description=(
        "AWS requests per job and $ per million jobs, summed over every API and worker "
        f"process's meter (flushed every few seconds), beside the seed's cost model.\n\n{OPERATOR_ONLY}"
    ),
    responses={401: _PROBLEM, 403: _PROBLEM, 503: _PROBLEM},
)
def cost(_: OperatorDep) -> costs.CostReport:
    return costs.report()
