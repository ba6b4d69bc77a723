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
"""

from __future__ import annotations

import logging
from collections import defaultdict

from celery import bootsteps
from celery.worker import state

from core.aws import client

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
    idle worker scaled in, a Ctrl-C of ``scripts/run``, a test's teardown.
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
            wait()

        worker.wait_for_soft_shutdown = give_back_then_wait
