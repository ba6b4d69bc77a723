"""/api/queues, the dead-letter queue's jobs, and their redrive (all, or one job's)."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import OPERATOR_ONLY, CallerDep, OperatorDep
from core.errors import NoDeadLetter
from core.jobs.job import Redrive
from core.operations import dlq, stats
from core.operations.models import DeadLetter, DeadLetterList

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


@router.get(
    "/dlq",
    response_model=DeadLetterList,
    description=(
        "The dead-letter queue: its approximate size and up to `limit` of its jobs (type, "
        "owner, last error, attempts, when it was dead-lettered). SQS has no peek: the "
        "messages are received, hidden for at most 10 s, and shown again at once, so a "
        f"redrive running at that moment may miss them.\n\n{OPERATOR_ONLY}"
    ),
    responses={401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def list_dead_letters(
    _: OperatorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeadLetterList:
    count, items = dlq.dead_letters(limit=limit)
    return DeadLetterList(approximate_count=count, items=[DeadLetter(**i) for i in items])


@router.post(
    "/dlq/{job_id}/redrive",
    response_model=Redrive,
    description=(
        "Redrive one job's dead-lettered message: the job becomes QUEUED as a fresh start "
        "(Attempts back to 0) and its message goes back to the jobs queue. 404 if the DLQ "
        f"(its first 1,000 messages) holds none for this job.\n\n{OPERATOR_ONLY}"
    ),
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM},
)
def redrive_dead_letter(job_id: UUID, caller: OperatorDep) -> Redrive:
    result = dlq.redrive_job(str(job_id))
    if not result.moved:
        raise NoDeadLetter(str(job_id))
    if caller.role == "operator":
        log.info("operator %s redrove job %s", caller.name, job_id)
    return Redrive(moved=result.moved, job_ids=result.job_ids)
