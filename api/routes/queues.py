"""/api/queues and the dead-letter redrive."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import KeyOwnerDep
from core import dlq
from core.job import Redrive

router = APIRouter(tags=["queues"])


@router.post("/dlq/redrive", response_model=Redrive)
def redrive_dead_letters(_: KeyOwnerDep, max_messages: int = 100) -> Redrive:
    """Move dead-lettered messages back to the jobs queue; their jobs become QUEUED."""
    result = dlq.redrive(max_messages=max_messages)
    return Redrive(moved=result.moved, job_ids=result.job_ids)
