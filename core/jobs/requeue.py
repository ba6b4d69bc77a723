"""Moves from an end back to QUEUED: a retry, its undo, a DLQ redrive, a batch's retry-failed.

Each is one conditional write through core/jobs/transitions.py (``_transition``), like
every status change; they live here because they are started by operators and tenants
(core/operations, core/batches), not by the worker's run of a job.
"""

from __future__ import annotations

from core.jobs.hot import now_iso
from core.jobs.status import JobStatus
from core.jobs.transitions import TransitionResult, _transition


def requeue_finished(
    job_id: str, *, attempts: int, extra_attempts: int, note: str
) -> TransitionResult:
    """FAILED or CANCELLED → QUEUED for another try (core/operations/retry.py says why
    the attempts continue: MaxAttempts = Attempts + ``extra_attempts``). Conditional on
    ``attempts`` (as the caller read them) and not dead-lettered (that takes a redrive);
    the outcome goes, StartedAt and FirstStartMs stay."""
    return _transition(
        job_id,
        from_=(JobStatus.FAILED, JobStatus.CANCELLED),
        to=JobStatus.QUEUED,
        set_values={"MaxAttempts": attempts + extra_attempts, "Progress": 0},
        remove=("FinishedAt", "LastError", "LeaseExpiresAt", "NextAttemptAt"),
        extra_condition="Attempts = :attempts AND attribute_not_exists(DeadLettered)",
        extra_values={":attempts": attempts},
        note=note,
    )


def unqueue_unsent(job_id: str, *, to: JobStatus, history_count: int) -> TransitionResult:
    """Undo :func:`requeue_finished` whose message SQS refused: QUEUED → ``to`` again,
    only if nothing touched the job since (its HistoryCount is the one the requeue left)."""
    return _transition(
        job_id,
        from_=(JobStatus.QUEUED,),
        to=to,
        set_values={"FinishedAt": now_iso()},
        extra_condition="HistoryCount = :hc0",
        extra_values={":hc0": history_count},
        note="retry unsent",
    )


def requeue_dead_letter(job_id: str) -> TransitionResult:
    """FAILED (dead-lettered) → QUEUED, for a redrive: a fresh start.

    Attempts restart at 0 (the job gets MaxAttempts new attempts), and the old
    outcome goes (LastError, FinishedAt, StartedAt); HistoryCount keeps counting.
    """
    return _transition(
        job_id,
        from_=(JobStatus.FAILED,),
        to=JobStatus.QUEUED,
        set_values={"Attempts": 0, "Progress": 0},
        remove=("FinishedAt", "StartedAt", "LastError", "DeadLettered"),
        extra_condition="DeadLettered = :true",
        extra_values={":true": True},
    )


def requeue_batch_child(job_id: str, *, max_attempts: int) -> TransitionResult:
    """FAILED → QUEUED for a batch's retry-failed (issue 14): the child gets
    ``max_attempts`` more attempts (Attempts goes on counting, so an attempt's token
    is never reused); only a batch's child may, on condition it is one."""
    return _transition(
        job_id,
        from_=(JobStatus.FAILED,),
        to=JobStatus.QUEUED,
        set_values={"Progress": 0},
        remove=("FinishedAt", "StartedAt", "LastError", "DeadLettered"),
        extra_condition="attribute_exists(BatchId)",
        extra_values={},
        max_attempts_more=max_attempts,
    )
