"""The Celery app. ``celery -A tasks worker`` finds it through tasks/__init__.py."""

import logging

from celery import Celery, bootsteps
from celery.signals import worker_init, worker_process_init

from core.cost import costs
from core.operations import dlq, metrics
from core.settings import settings
from tasks import event_queues, events_sqs
from tasks.shutdown import GiveBackOnShutdown

if event_queues.role() == "flower":
    # Flower loads this app and makes its own SQS/SNS requests (~0.6 per job, and the
    # heartbeats' receives and deletes): count them too (issue 13). Started first, so
    # its last flush runs after the other exit handlers (atexit is LIFO), their
    # requests (SNS Unsubscribe) included. Workers start theirs in the signals below.
    costs.start_flusher("flower")

app = Celery("tasks")
app.config_from_object("celeryconfig")
events_sqs.install(app)  # events + remote control over SNS fanout (Flower on SQS)

log = logging.getLogger("batchlab.worker")


class DeadLetterReconciler(bootsteps.StartStopStep):
    """Every ``dlq_reconcile_seconds``, mark the jobs of dead-lettered messages FAILED.

    Runs on the worker's own timer (the main process's event loop, no extra
    thread), so it needs no separate process; with several workers each does
    it, which is harmless: the writes are conditional.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        if settings.dlq_reconcile_seconds > 0:
            self.tref = worker.timer.call_repeatedly(settings.dlq_reconcile_seconds, self.tick)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()

    @staticmethod
    def tick():
        try:
            dlq.reconcile_once()
        except Exception:  # noqa: BLE001 - never let housekeeping stop the worker
            log.warning("dead-letter reconcile failed", exc_info=True)


app.steps["worker"].add(DeadLetterReconciler)
app.steps["worker"].add(GiveBackOnShutdown)  # SIGTERM: prefetched messages back at once


@worker_init.connect
def _on_worker_init(**_: object) -> None:
    """Main process: it polls SQS (kombu), so it meters too; it serves /metrics."""
    metrics.track_aws()
    costs.start_flusher("worker-main")
    if settings.worker_metrics_port and settings.prometheus_multiproc_dir:
        from prometheus_client import start_http_server

        start_http_server(
            settings.worker_metrics_port, addr="127.0.0.1", registry=metrics.multiprocess_registry()
        )


@worker_process_init.connect
def _on_process_init(**_: object) -> None:
    """Pool child: runs the jobs. Must return quickly (Celery allows it 4 s)."""
    metrics.track_aws()
    costs.start_flusher("worker")
