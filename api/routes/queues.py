"""/api/queues and the dead-letter redrive."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import OPERATOR_ONLY, CallerDep, OperatorDep
from core import dlq, stats
from core.job import Redrive

log = logging.getLogger("batchlab.api")

router = APIRouter(tags=["queues"])

_PROBLEM = {"content": {"application/problem+json": {}}}


@router.get("/queues", response_model=stats.QueueOverview, responses={401: _PROBLEM, 503: _PROBLEM})
def queue_overview(caller: CallerDep) -> stats.QueueOverview:
    """Operators (and open mode): both queues' depths (jobs queue and DLQ), jobs per
    status and completed jobs/s over the last minute, over every owner (`scope: all`).

    A tenant key gets its own jobs only (`scope: owner`): its jobs per status and
    completed jobs/s, no queue depths and no Flower link, since those show every
    tenant's work."""
    if caller.owner is not None:
        return stats.owner_overview(owner_id=caller.owner)
    return stats.overview()


@router.post(
    "/dlq/redrive",
    response_model=Redrive,
    description=(
        "Move dead-lettered messages back to the jobs queue; their jobs (every owner's) "
        f"become QUEUED.\n\n{OPERATOR_ONLY}"
    ),
    responses={401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def redrive_dead_letters(
    caller: OperatorDep,
    max_messages: Annotated[int, Query(alias="maxMessages", ge=1, le=1000)] = 100,
) -> Redrive:
    result = dlq.redrive(max_messages=max_messages)
    if caller.role == "operator":
        log.info("operator %s redrove %d dead letter(s)", caller.name, result.moved)
    return Redrive(moved=result.moved, job_ids=result.job_ids)
