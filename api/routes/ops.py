"""/metrics (Prometheus) and /api/cost ($ per million jobs and $ per hour of idle fleet).

Both show every tenant's activity, so in API-key mode they need an operator key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import OPERATOR_ONLY, OperatorDep
from core.cost import costs
from core.operations import metrics

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
        "What jobs cost and what the fleet costs while idle, over the last `window` seconds, "
        "summed over every process's meter (API, workers, Flower, bootstrap; flushed every few "
        "seconds): requests and DynamoDB capacity units per job and $ per million jobs "
        "(requests that carry a job), apart from requests and $ per hour of the fleet whatever "
        "the jobs (empty long polls, heartbeats, control, meter writes). Capacity units are "
        "computed from item sizes where the backend does not report real ones (both shown), "
        f"beside the design document's cost model.\n\n{OPERATOR_ONLY}"
    ),
    responses={401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def cost(
    _: OperatorDep,
    window: Annotated[int | None, Query(
        ge=60, le=86_400, description="seconds back from now (default BATCHLAB_COST_WINDOW_SECONDS)",
    )] = None,
) -> costs.CostReport:
    return costs.report(window)
