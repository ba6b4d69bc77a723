"""SIGTERM gives the unstarted prefetched messages back at once (issue 12, item 13).

Celery's soft shutdown (REMAP_SIGTERM=SIGQUIT, ``worker_soft_shutdown_timeout``)
lets the running job finish, but keeps every prefetched message reserved until
the worker exits: they stayed invisible in SQS for the whole grace, and another
worker started them only after it. This step wraps the worker's soft-shutdown
wait so that, before it starts waiting, each reserved request that has not
started is rejected with ``requeue=True``: kombu restores it through our
transport (tasks/transport.py), which sets its visibility to 0, and Celery
marks the request acknowledged, so this worker never acknowledges or restores
it again. The requests are also dropped from the pool's outbound buffer, so
the pool never hands them to a child during the cold shutdown that follows.

If a request started in the instant between the check and the reject, another
worker receives its message while this one runs it: the job's lease is live,
so that delivery is "held" (tasks/execution.py) and the job still runs once.
"""

from __future__ import annotations

import logging

from celery import bootsteps
from celery.worker import state

log = logging.getLogger("batchlab.worker")


def give_back_unstarted(worker) -> int:
    """Make this worker's reserved-but-unstarted messages visible again; returns how many."""
    unstarted = [r for r in list(state.reserved_requests) if r not in state.active_requests]
    ids = set()
    for request in unstarted:
        try:
            request.reject(requeue=True)  # kombu restore → ChangeMessageVisibility 0
        except Exception:  # noqa: BLE001 - one message failing must not keep the others
            log.warning("could not give back task %s", request.id, exc_info=True)
            continue
        ids.add(request.id)
    # Prefork keeps applied-but-unsent jobs in the pool's outbound buffer (a celery
    # internal, hence the getattr): drop ours so no child starts them.
    outbound = getattr(getattr(worker.pool, "_pool", None), "outbound_buffer", None)
    if outbound is not None:
        for job in [j for j in outbound if getattr(j, "correlation_id", None) in ids]:
            outbound.remove(job)
    if ids:
        log.warning("shutdown: gave back %d prefetched message(s) not started", len(ids))
    return len(ids)


class GiveBackOnShutdown(bootsteps.Step):
    """Hooks :func:`give_back_unstarted` into the start of the soft shutdown.

    Celery sends ``worker_shutting_down`` only after the soft-shutdown wait, so
    the hook wraps ``WorkController.wait_for_soft_shutdown`` on this instance
    (called from the cold-shutdown signal handler, in the main process).
    """

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        wait = worker.wait_for_soft_shutdown

        def give_back_then_wait() -> None:
            try:
                give_back_unstarted(worker)
            except Exception:  # noqa: BLE001 - never stand in the way of the shutdown
                log.warning("shutdown: giving back prefetched messages failed", exc_info=True)
            wait()

        worker.wait_for_soft_shutdown = give_back_then_wait
