"""The job state machine. Pure: no I/O, no boto3, celery or fastapi.

    QUEUED ──▶ PROCESSING ──▶ COMPLETED
      │  ▲         │  │
      │  └─retry───┘  └────▶ FAILED ──redrive, retry──▶ QUEUED
      ▼            ▼
    CANCELLED ◀────┘ ──retry──▶ QUEUED

PROCESSING ▶ PROCESSING is a take-over: the worker holding the job died, its
lease ran out and SQS redelivered the message to another worker.
"""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.PROCESSING: frozenset(
        {
            JobStatus.PROCESSING,
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.QUEUED,
            JobStatus.CANCELLED,
        }
    ),
    JobStatus.COMPLETED: frozenset(),
    # Back to QUEUED by a redrive (dead-lettered) or a retry (POST .../retry, issue 15);
    # core/jobs/transitions.py says which FAILED job may take which.
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
}


class InvalidTransition(Exception):
    def __init__(self, current: JobStatus, new: JobStatus) -> None:
        super().__init__(f"cannot move a job from {current.value} to {new.value}")
        self.current = current
        self.new = new


def can_advance(current: JobStatus, new: JobStatus) -> bool:
    return new in TRANSITIONS[current]


def advance(current: JobStatus, new: JobStatus) -> JobStatus:
    """Return ``new`` if the move is legal, else raise InvalidTransition."""
    if not can_advance(current, new):
        raise InvalidTransition(current, new)
    return new
