"""Retry a finished job in place, or re-run it as a new job (issue 15).

* **Retry** (FAILED or CANCELLED → QUEUED, same JobId): the job's attempts
  *continue* (attempt 4, 5, … after 3) and it gets its type's ``max_attempts`` more
  (MaxAttempts = Attempts + that). Why not restart at 0 as a redrive does: the
  attempt number is the token every write of an attempt is conditional on, so
  reusing numbers would let a worker still running a cancelled attempt write its
  outcome over the new attempt with the same number. The history gets a QUEUED
  entry noted "retried" (or "bulk retry").
* **Re-run**: a new job with the same name, type, payload and owner; its
  ``rerunOf`` names the old one. The old job is not touched.

Retry writes before it sends (the job exists, so a message sent first could be
taken by a worker before the write and dropped as a duplicate of a finished job):
  1. conditional write FAILED/CANCELLED → QUEUED (on the Attempts read, not
     dead-lettered);
  2. SendMessage of the JobId;
  3. if SQS refuses, undo 1 (QUEUED → the old status, noted "retry unsent", only if
     nothing touched the job since) and answer 503.
An API process killed between 1 and 2 leaves the job QUEUED without a message:
cancel it and retry it again (the window is one SendMessage).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from core.errors import BackendUnavailable, JobConflict, JobNotFound
from core.jobs import jobdata, service, store
from core.jobs.job import Job, JobCreate
from core.jobs.job_types import REGISTRY
from core.jobs.requeue import requeue_finished, unqueue_unsent
from core.jobs.status import TERMINAL, JobStatus
from core.jobs.transitions import TransitionResult
from core.settings import settings

log = logging.getLogger("batchlab.operations")

RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})


def own_item(job_id: str, owner_id: str | None) -> dict[str, Any]:
    """The job's hot item; JobNotFound for a missing job or another owner's (tenants)."""
    item = store.get_item(job_id, consistent=True)
    if item is None or (owner_id is not None and item["OwnerId"]["S"] != owner_id):
        raise JobNotFound(job_id)
    return item


def extra_attempts(type_name: str) -> int:
    registered = REGISTRY.get(type_name)
    return registered.max_attempts if registered else settings.default_max_attempts


def requeue(item: dict[str, Any], *, note: str) -> TransitionResult:
    """Step 1 of a retry for one job (its item as read); no message yet."""
    return requeue_finished(
        item["JobId"]["S"],
        attempts=int(item.get("Attempts", {"N": "0"})["N"]),
        extra_attempts=extra_attempts(item["Type"]["S"]),
        note=note,
    )


def undo_requeue(job_id: str, *, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Step 3: the message was refused; put the job back as it was (if untouched)."""
    undone = unqueue_unsent(
        job_id, to=JobStatus(old["Status"]["S"]),
        history_count=int(new["HistoryCount"]["N"]),
    )
    if not undone.ok:
        log.warning("job %s: retry message refused and the job moved meanwhile; left as is", job_id)


def retry_job(job_id: str, *, owner_id: str | None, enqueue: Callable[[str], None]) -> Job:
    """Retry a FAILED or CANCELLED job (see the module docstring); JobConflict otherwise."""
    item = own_item(job_id, owner_id)
    status = JobStatus(item["Status"]["S"])
    if status not in RETRYABLE:
        raise JobConflict(f"the job is {status.value}; only a FAILED or CANCELLED job can be retried")
    if item.get("DeadLettered", {}).get("BOOL"):
        raise JobConflict(
            "the job was dead-lettered (its worker died on every attempt); an operator "
            "redrives it from the dead-letter queue (POST /api/dlq/{jobId}/redrive)")
    done = requeue(item, note="retried")
    if not done.ok:
        now = (done.item or {}).get("Status", {}).get("S", "gone")
        raise JobConflict(f"the job changed meanwhile (now {now}); look again and retry")
    try:
        enqueue(job_id)
    except Exception as exc:
        undo_requeue(job_id, old=item, new=done.item or {})
        raise BackendUnavailable("the job queue is unavailable; the job was not retried") from exc
    return store.job_from_item(done.item)


def rerun_job(job_id: str, *, owner_id: str | None, enqueue: Callable[[str], None]) -> Job:
    """A new job from a finished one: same name, type, payload (wherever it is kept) and
    owner, ``rerunOf`` = ``job_id``. Validated and sent like any submit (the payload
    against the type as it is now). JobConflict for an unfinished job, DataMissing
    (410) if its payload expired."""
    item = own_item(job_id, owner_id)
    status = JobStatus(item["Status"]["S"])
    if status not in TERMINAL:
        raise JobConflict(f"the job is {status.value}; only a finished job can be re-run")
    request = JobCreate(name=item["Name"]["S"], type=item["Type"]["S"],
                        payload=jobdata.load_payload(item), owner_id=item["OwnerId"]["S"])
    job, _ = service.submit_job(request=request, enqueue=enqueue, rerun_of=job_id)
    return job
