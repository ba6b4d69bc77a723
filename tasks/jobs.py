"""The one task, and how to send it. Messages carry the JobId and nothing else.

What Flower shows (issue 12, item 12). Every message's Celery task id is its JobId
(tasks/messages.py), so Flower lists a job as one task, found by its JobId, and a
message a worker sends for it is a retry of that task (``retries`` one higher).
Each delivery's outcome (tasks/execution.py) becomes the Celery state an operator
expects, without changing what happens to the SQS message:

=====================================  ============================  ======================
outcome                                state in Flower               the SQS message
=====================================  ============================  ======================
completed                              SUCCESS                       deleted
failed (the job is FAILED)             FAILURE, the job's error      deleted
retry (next message already sent)      RETRY                         deleted
dead-letter                            FAILURE, the job's error      left for the DLQ
cancelled                              REVOKED                       deleted
duplicate (the job had finished)       the job's final state again   deleted
missing (no such job)                  FAILURE                       deleted
held, lost, recycled: not an attempt   unchanged (no outcome event)  deleted
not-written-yet (the put is late)      RETRY                         left: SQS redelivers
an exception (e.g. DynamoDB down)      RETRY                         left: SQS redelivers
=====================================  ============================  ======================

Why a duplicate repeats the job's final state instead of returning: Celery's event
state (``celery.events.state.Task.event``) lets SUCCESS override every other state
and RETRY override even SUCCESS/FAILURE, so a duplicate of a FAILED job that ended
in SUCCESS (as every delivery did before) turned the FAILURE green. Repeating the
stored state keeps it, and shows the truth in a Flower that missed the original.

The states come from exceptions Celery already knows (``Retry``, ``Ignore``) or
from ours, which :class:`SqsRequest` maps to an acknowledgement or not: Celery
alone would leave every failed task's message unacknowledged
(``task_acks_on_failure = False``, needed for infrastructure errors).
"""

from __future__ import annotations

import functools
import logging

from billiard.einfo import ExceptionWithTraceback
from celery.exceptions import Ignore, Reject, Retry
from celery.worker.request import Request
from celery.worker.state import task_ready

from core.queues import RUN_JOB
from tasks import messages
from tasks.celery_app import app
from tasks.execution import DEAD_LETTER, NOT_WRITTEN_YET, Delivery, handle_delivery

log = logging.getLogger("batchlab.worker")


def enqueue_job(job_id: str, *, delay_seconds: int | None = None, retries: int = 0) -> None:
    """Send the JobId-only message. A delay uses SQS DelaySeconds (≤ 900 s), never
    a Celery ETA: an ETA longer than the visibility timeout runs the task twice.
    ``retries``: messages a worker sent for this job before this one (Flower's retries)."""
    messages.send(job_id, task_name=RUN_JOB, delay_seconds=delay_seconds, retries=retries)


def enqueue_many(job_ids: list[str]) -> list[str]:
    """Batch send (SendMessageBatch, 10 per request); returns the JobIds not accepted."""
    return messages.send_many(job_ids, task_name=RUN_JOB)


# ------------------------------------------------------------ outcomes as Celery states


class JobFailed(Exception):
    """The job is FAILED in DynamoDB: FAILURE, with the job's error; the message is deleted."""


class JobDeadLettered(JobFailed):
    """FAILED, and the message must reach the DLQ: left in SQS (as ``Reject(requeue=False)``)."""


class JobRevoked(Ignore):
    """The job was cancelled: REVOKED; the message is deleted."""


class AttemptFailed(Exception):
    """An attempt's error, shown with a RETRY (the ``exc`` of a ``Retry``)."""


class JobRetried(Retry):
    """The attempt failed and the job's next message is already sent: RETRY; deleted."""


class Redelivery(Retry):
    """The delivery could not be handled (e.g. DynamoDB unreachable): RETRY, and the
    message is not deleted, so SQS delivers it again after its visibility timeout."""


def raise_outcome(job_id: str, outcome: str) -> str:
    """Return for SUCCESS, else raise what gives the outcome's state (module docstring).

    ``outcome`` may be a plain string: without the job's error or status the text is
    generic, and an unknown outcome or a duplicate of unknown status is acknowledged
    with no outcome event rather than shown as a SUCCESS it may not be.
    """
    error = getattr(outcome, "error", None) or f"job {job_id}: {outcome}"
    name = str(outcome)
    if outcome == "duplicate":  # repeat the job's final state
        final = {"COMPLETED": "completed", "FAILED": "failed", "CANCELLED": "cancelled"}
        outcome = final.get(getattr(outcome, "status", None), "duplicate of unknown status")
    if outcome == "completed":
        return "completed"
    if outcome == "failed":
        raise JobFailed(error)
    if outcome == DEAD_LETTER:
        raise JobDeadLettered(error)
    if outcome == "retry":
        raise JobRetried(f"{error} (the job's next message is sent)", AttemptFailed(error))
    if outcome == "cancelled":
        raise JobRevoked(f"job {job_id} was cancelled")
    if outcome == NOT_WRITTEN_YET:
        raise Redelivery(f"job {job_id} is not written yet (SQS delivers the message again)",
                         AttemptFailed(f"job {job_id} is not written yet"))
    if outcome == "missing":
        raise JobFailed(f"job {job_id} does not exist (expired, or never written)")
    # held, lost, recycled: this delivery ran no attempt of its own; another one reports.
    raise Ignore(f"job {job_id}: {name}")


def _exception(exc_info) -> BaseException:
    exc = exc_info.exception
    return exc.exc if isinstance(exc, ExceptionWithTraceback) else exc


class SqsRequest(Request):
    """Keeps the SQS facts Celery's Request drops, and acknowledges by outcome.

    kombu puts the raw SQS message in ``delivery_info``; Celery copies only a few
    delivery fields into the task's context (and ``redelivered`` is always False
    on SQS). The task needs the receive count to tell a redelivery, and the
    receipt handle to extend the message's visibility while a long job runs.

    ``on_failure``/``on_retry`` run in the worker's main process with the exception
    the task raised (:func:`raise_outcome`); they decide whether the message is
    deleted, then let Celery send the event (celery/worker/request.py, 5.7.0).
    """

    def __init__(self, message, *args, **kwargs):
        super().__init__(message, *args, **kwargs)
        info = message.delivery_info or {}
        sqs_message = info.get("sqs_message") or {}
        attributes = sqs_message.get("Attributes", {})
        sent = attributes.get("SentTimestamp")  # ms; celeryconfig asks kombu to fetch it
        self._request_dict["sqs"] = {
            "receive_count": int(attributes.get("ApproximateReceiveCount", 1)),
            "sent_at": int(sent) / 1000 if sent else None,
            "receipt_handle": sqs_message.get("ReceiptHandle"),
            "queue_url": info.get("sqs_queue"),
            "body": sqs_message.get("Body"),  # dead-lettered as is (tasks.execution)
        }

    def on_failure(self, exc_info, send_failed_event=True, return_ok=False):
        exc = _exception(exc_info)
        if isinstance(exc, JobRevoked):
            task_ready(self)
            self.send_event("task-revoked", terminated=False, signum=None, expired=False)
            return self.acknowledge()
        if isinstance(exc, JobDeadLettered):
            self.reject(requeue=False)  # on SQS: not deleted; the redrive policy moves it
        elif isinstance(exc, JobFailed):
            self.acknowledge()  # finished with: Celery would leave it (acks_on_failure off)
        # Celery then sends task-failed; its own reject is a no-op once acknowledged.
        return super().on_failure(exc_info, send_failed_event, return_ok)

    def on_retry(self, exc_info):
        if isinstance(_exception(exc_info), Redelivery):
            self.reject(requeue=False)  # not deleted: Celery's acknowledge is then a no-op
        return super().on_retry(exc_info)


@app.task(name=RUN_JOB, bind=True, Request=SqsRequest, throws=(JobFailed,))
def run_job(self, job_id: str) -> str:
    """Re-load the job and run it. Idempotent: DynamoDB's Status decides what to do."""
    sqs = getattr(self.request, "sqs", None) or {}
    delivery = Delivery(
        receive_count=sqs.get("receive_count", 1),
        receipt_handle=sqs.get("receipt_handle"),
        queue_url=sqs.get("queue_url"),
        sent_at=sqs.get("sent_at"),
        body=sqs.get("body"),
    )
    # Whatever this delivery sends for the job is a retry of this task (same id).
    enqueue = functools.partial(enqueue_job, retries=(self.request.retries or 0) + 1)
    try:
        outcome = handle_delivery(job_id, enqueue=enqueue, delivery=delivery)
    except (Ignore, Reject, Retry):
        raise
    except Exception as exc:
        # Celery logs a Retry without its traceback: log it here.
        log.exception("job %s: delivery not handled; SQS will deliver it again", job_id)
        error = f"{type(exc).__name__}: {exc}"
        raise Redelivery(f"{error} (SQS delivers the message again)", AttemptFailed(error)) from None
    return raise_outcome(job_id, outcome)
