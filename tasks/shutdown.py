"""SIGTERM gives the unstarted prefetched messages back at once (issue 12, item 13).

Celery's soft shutdown (REMAP_SIGTERM=SIGQUIT, ``worker_soft_shutdown_timeout``)
lets the running job finish, but keeps every prefetched message reserved until
the worker exits: they stayed invisible in SQS for the whole grace, and another
worker started them only after it. This step wraps the worker's soft-shutdown
wait so that, before it starts waiting, each reserved request that has not
started is given back:

1. ChangeMessageVisibility to 0, called here and now (a ``request.reject(requeue=True)``
   would only be queued on the event loop, which the soft-shutdown wait blocks);
2. the request is marked acknowledged and its message dropped from kombu's
   unacked set (kombu's virtual ``QoS.ack``: local bookkeeping, no SQS call), so
   this worker never deletes it nor restores it again at exit;
3. the request is dropped from the pool's outbound buffer, so no pool child
   starts it during the cold shutdown that follows.

If a request started in the instant between the check and the give-back,
another worker receives its message while this one runs it: the job's lease is
live, so that delivery is "held" (tasks/execution.py) and the job runs once.

Then, instead of Celery's plain sleep of the whole grace, the worker waits only as
long as a held job runs (:func:`wait_for_held`): the main loop is blocked during the
wait, so it cannot hear a pool child finish, but DynamoDB can tell. A worker stopped
while running a 2 s job exits about 2 s later, not 25.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict

from celery import bootsteps
from celery.worker import state

from core.aws import client
from core.jobs import store
from core.jobs.status import TERMINAL, JobStatus
from core.queues import RUN_JOB

log = logging.getLogger("batchlab.worker")


def give_back_unstarted(worker) -> set[str]:
    """Make this worker's reserved-but-unstarted messages visible again; returns their ids."""
    unstarted = [r for r in list(state.reserved_requests) if r not in state.active_requests]
    by_queue: dict[str, list] = defaultdict(list)
    for request in unstarted:
        info = request.message.delivery_info or {}  # the raw one: Celery's copy drops sqs_*
        handle = (info.get("sqs_message") or {}).get("ReceiptHandle")
        if handle and info.get("sqs_queue"):
            by_queue[info["sqs_queue"]].append((request, handle))
    ids = set()
    sqs = client("sqs")
    for queue_url, items in by_queue.items():
        for i in range(0, len(items), 10):
            chunk = items[i : i + 10]
            resp = sqs.change_message_visibility_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                         for n, (_, handle) in enumerate(chunk)],
            )
            for ok in resp.get("Successful", []):
                request = chunk[int(ok["Id"])][0]
                request.acknowledged = True
                request.message.channel.qos.ack(request.message.delivery_tag)
                ids.add(request.id)
    # Prefork keeps applied-but-unsent jobs in the pool's outbound buffer (a celery
    # internal, hence the getattr): drop ours so no child starts them.
    outbound = getattr(getattr(worker.pool, "_pool", None), "outbound_buffer", None)
    if outbound is not None:
        for job in [j for j in outbound if getattr(j, "correlation_id", None) in ids]:
            outbound.remove(job)
    if ids:
        log.warning("shutdown: gave back %d prefetched message(s) not started", len(ids))
    return ids


def still_held(given_back: set[str]) -> int:
    """Requests this worker received and has not finished, other than those given back.

    Conservative: the main loop that would record a finished job is blocked while
    the shutdown waits, so a job that finished just now still counts as held."""
    return sum(1 for r in list(state.reserved_requests) if r.id not in given_back)


POLL_SECONDS = 0.5


def job_ended(status: str | None, *, seen_processing: bool) -> bool:
    """Whether a held run_job delivery is over, from its job's status now.

    Over: the job is terminal, or gone (never written: that delivery returns at once),
    or it left PROCESSING after this wait saw it there (a failed attempt requeued).
    Not over: QUEUED never seen PROCESSING, for the pool child may be about to start it."""
    if status is None or JobStatus(status) in TERMINAL:
        return True
    return seen_processing and status != JobStatus.PROCESSING.value


def wait_for_held(held: list, *, grace: float, poll: float = POLL_SECONDS) -> bool:
    """Wait until every held request is over, at most ``grace`` seconds; True if they were.

    Only run_job requests can be followed (through their job's item, one consistent
    GetItem each per ``poll``); with any other task held (a batch's ingestion slice,
    sweep or webhook), the whole grace is waited, as Celery would."""
    if any(r.name != RUN_JOB for r in held):
        time.sleep(grace)
        return False
    deadline = time.monotonic() + grace
    pending = {r.args[0]: False for r in held}  # job id -> seen PROCESSING
    while True:
        for job_id, seen in list(pending.items()):
            item = store.get_item(job_id, consistent=True)
            status = item["Status"]["S"] if item is not None else None
            if job_ended(status, seen_processing=seen):
                del pending[job_id]
            else:
                pending[job_id] = seen or status == JobStatus.PROCESSING.value
        if not pending:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(poll, left))


class GiveBackOnShutdown(bootsteps.Step):
    """Hooks :func:`give_back_unstarted` into the start of the soft shutdown.

    Celery sends ``worker_shutting_down`` only after the soft-shutdown wait, so
    the hook wraps ``WorkController.wait_for_soft_shutdown`` on this instance
    (called from the cold-shutdown signal handler, in the main process).

    Celery's wait is a plain sleep of the whole grace, and with
    ``worker_enable_soft_shutdown_on_idle`` it sleeps even with nothing to finish.
    That setting stays on because ``active_requests`` misses a job a pool child has
    started but not yet reported; ``reserved_requests`` does not. So when nothing is
    held once the unstarted messages are given back, the worker stops at once: an
    idle worker scaled in, a Ctrl-C of ``scripts/run``, a test's teardown. When a
    job is held, it waits for that job's end (:func:`wait_for_held`), not the grace.
    """

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        wait = worker.wait_for_soft_shutdown

        def give_back_then_wait() -> None:
            given_back: set[str] = set()
            try:
                given_back = give_back_unstarted(worker)
            except Exception:  # noqa: BLE001 - never stand in the way of the shutdown
                log.warning("shutdown: giving back prefetched messages failed", exc_info=True)
            if not still_held(given_back):
                log.warning("shutdown: no job to finish, stopping now")
                return
            held = [r for r in list(state.reserved_requests) if r.id not in given_back]
            grace = worker.app.conf.worker_soft_shutdown_timeout
            log.warning("shutdown: waiting up to %.0f s for %d running job(s)", grace, len(held))
            try:
                over = wait_for_held(held, grace=grace)
            except Exception:  # noqa: BLE001 - e.g. DynamoDB unreachable: Celery's own wait
                log.warning("shutdown: cannot follow the running job; waiting the grace",
                            exc_info=True)
                wait()
                return
            if over:
                log.warning("shutdown: the running job ended, stopping now")

        worker.wait_for_soft_shutdown = give_back_then_wait
