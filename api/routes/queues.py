"""/api/queues and the dead-letter redrive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import KeyOwnerDep
from core import dlq, stats
from core.job import Redrive

router = APIRouter(tags=["queues"])


@router.get("/queues", response_model=stats.QueueOverview)
def queue_overview(_: KeyOwnerDep) -> stats.QueueOverview:
    """Queue depths (jobs queue and DLQ), jobs per status, completed jobs/s over the last minute."""
    return stats.overview()


@router.post("/dlq/redrive", response_model=Redrive)
def redrive_dead_letters(
    _: KeyOwnerDep,
    max_messages: Annotated[int, Query(alias="maxMessages", ge=1, le=1000)] = 100,
) -> Redrive:
    """Move dead-lettered messages back to the jobs queue; their jobs become QUEUED."""
    result = dlq.redrive(max_messages=max_messages)
    return Redrive(moved=result.moved, job_ids=result.job_ids)
