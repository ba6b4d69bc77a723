"""Celery configuration (``python -m celeryconfig`` checks it loads).

Values come from core.settings; see the README's configuration table.

Throughput vs. visibility (measured: default polling_interval=1 with prefetch 1
gives ~5 jobs/s per worker): we prefetch ``worker_prefetch`` messages, refill
the buffer in batches (tasks/transport.py: ~0.2 ReceiveMessage per job), and
poll again 0.1 s after an empty long poll. The price: prefetched messages wait
behind the running job and their visibility timeout runs meanwhile, so
prefetch × longest job must stay under VisibilityTimeout, or set
BATCHLAB_WORKER_PREFETCH=1 for long jobs.
"""

from core.queues import queue_urls
from core.settings import settings

_urls = queue_urls()

# No host in the URL: boto3 takes the endpoint from AWS_ENDPOINT_URL(_SQS),
# or real AWS when unset.
broker_url = "sqs://"
# kombu's SQS transport, refilling the prefetch buffer in batches (tasks/transport.py);
# tasks/events_sqs.py swaps in its subclass when events are on.
broker_transport = "tasks.transport:Transport"
broker_transport_options = {
    "region": settings.aws_region,
    "predefined_queues": {settings.queue_name: {"url": _urls.jobs}},
    "wait_time_seconds": settings.wait_time_seconds,
    "polling_interval": settings.polling_interval,
    "visibility_timeout": settings.visibility_timeout,
    # SentTimestamp gives a message's age: a job not written yet is waited for until
    # the message is dispatch_grace_seconds old (tasks/execution.py). kombu adds
    # ApproximateReceiveCount itself.
    "fetch_message_attributes": {"MessageSystemAttributeNames": ["SentTimestamp"]},
    # SNS fanout for Celery events and remote control (tasks/events_sqs.py).
    "supports_fanout": settings.events_enabled,
    "client-config": {
        "connect_timeout": settings.aws_connect_timeout,
        # Long polls hold a request for wait_time_seconds; leave room above it.
        "read_timeout": settings.wait_time_seconds + 10,
        "retries": {"total_max_attempts": settings.aws_max_attempts, "mode": "standard"},
    },
}
broker_connection_retry_on_startup = True

task_default_queue = settings.queue_name
task_create_missing_queues = False
task_serializer = "json"
accept_content = ["json"]
task_ignore_result = True  # DynamoDB holds the job's result; no result backend.

# Ack after the job ran; a lost worker's message comes back (SQS visibility).
task_acks_late = True
task_reject_on_worker_lost = True
# A task that raises (e.g. DynamoDB unreachable while finishing) is not acked:
# SQS redelivers it after the visibility timeout and the job is taken over.
task_acks_on_failure = False
task_acks_on_timeout = False

# Graceful shutdown: run workers with REMAP_SIGTERM=SIGQUIT (Celery reads it from
# the environment at import, before this file). SIGTERM then gives back the
# unstarted prefetched messages at once (tasks/shutdown.py) and starts a soft
# shutdown: the running job gets shutdown_grace_seconds to finish, after which
# the worker cancels it and stops; its message is given back too.
worker_soft_shutdown_timeout = settings.shutdown_grace_seconds
worker_enable_soft_shutdown_on_idle = True

worker_concurrency = 1
worker_prefetch_multiplier = settings.worker_prefetch
worker_hijack_root_logger = False

# Events and remote control travel over SNS fanout (tasks/events_sqs.py, which also
# swaps in its transport); BATCHLAB_EVENTS_ENABLED=false turns all of it off.
worker_enable_remote_control = settings.events_enabled
worker_send_task_events = settings.events_enabled
# No task-sent event: it would be one synchronous SNS publish on the API's hot
# path per job, for a timestamp DynamoDB already holds (CreatedAt).
task_send_sent_event = False

if __name__ == "__main__":
    import pprint

    pprint.pprint({k: v for k, v in globals().items() if not k.startswith("_") and k.islower()})
