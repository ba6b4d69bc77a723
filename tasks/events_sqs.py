"""Celery events and remote control over Amazon SNS fanout, for Flower on the SQS broker.

Upstream, Flower shows nothing on SQS: Celery sends events to a *topic* exchange whose
bindings live only in the sending process, so they are dropped; remote control is off
because the SQS transport declares only direct exchanges. kombu 5.7 can fan out through
SNS (``supports_fanout``: an SNS topic per fanout exchange, each consuming SQS queue
subscribed to it). This module builds on that with a kombu ``Transport`` subclass that
Celery uses instead of kombu's (``broker_transport``, set by :func:`install`), so the
worker, ``celery events``, ``celery inspect`` and ``celery flower`` all get it. It is on
when ``BATCHLAB_EVENTS_ENABLED`` is true (the default); when false :func:`install` changes
nothing but Flower's auth, and Celery runs exactly as before (no events, no SNS).

What the subclass changes (each override is small and named below):

* ``exchange_declare``: the event exchange (``batchlab-events``) is declared *fanout*, so
  events go to the SNS topic ``batchlab-events``.
* ``_put_fanout``: events are best effort, and batched. Each event goes to a background
  thread that sends up to ten per SNS PublishBatch (tasks/sns_batch.py, after at most
  ``BATCHLAB_EVENTS_BATCH_SECONDS``); a failure is logged and dropped, never raised into
  the worker loop. Remote-control messages keep kombu's immediate Publish. The SNS client
  gets the bounded timeouts of ``core.aws`` (``_new_boto_client``).
* ``_messages_to_python``: outside an event loop (Flower), the no-ack messages of one receive
  are deleted with one DeleteMessageBatch, not one DeleteMessage each (~3 per job for Flower).
* ``_delete_message``: kombu 5.7 deletes no-ack messages through its asynchronous client,
  which needs an event loop; outside the worker (Flower's event thread, ``celery inspect``)
  ``asynsqs()`` builds ``CurlClient(hub=None)`` and crashes (``AttributeError ... on_close``).
  Without a hub we delete with the blocking client instead.
* Queue names (``canonical_queue_name``, ``_new_queue``, ``predefined_queues``): see below.
* Remote control: ``implements`` adds ``fanout`` (Celery's Control bootstep checks it), the
  pidbox exchange ``batchlab.pidbox`` is an SNS topic like the event exchange, and replies,
  which go to a *direct* exchange whose binding only the asking process knows, are routed
  by name (``_lookup``) to the asker's reply queue. Reply queues are long-polled for 1 s,
  not 20, so an ``inspect`` with ``timeout=1`` ends after about 1-2 s
  (``_receive_message``).

Queues: one per consumer, named deterministically and reused (tasks/event_queues.py, which
also keeps each event queue to one reader on a host: a Flower's queues carry its port, a
second reader of the same queue is refused, and a clean exit unsubscribes it). The jobs
queue stays kombu's predefined ``batchlab-jobs``: in predefined mode kombu refuses any
queue not listed, so each of our queues is created here (CreateQueue is idempotent) and
added to this connection's copy of ``predefined_queues``.

Remote control works (``celery inspect ping``, Flower's worker pages, ``/api/workers``),
with limits that are the price of bounded, reused queues on a broker without exclusive
or expiring queues: one reply queue per process and node, so a process's replying
commands run one at a time (a lock; Flower's inspection of 4-8 methods takes 4-8 s instead
of 1 s) and two ``celery inspect`` run at the same moment on one host may take each other's
replies (each then misses some; run them one after the other); a late reply is left in the
reply queue and ignored by ticket, or expires after 60 s; a worker only gets commands sent
while its mailbox queue is subscribed, and one sent while it was down (the queue lives on)
is dropped on arrival once it expired more than ``COMMAND_GRACE_SECONDS`` ago, as AMQP's
expiring mailbox queues would. Replies need a round trip SNS → SQS → worker → SQS, well
under Flower's and ``inspect``'s 1 s timeout on moto and AWS in one region.

Flower (see :func:`install`): ``BATCHLAB_FLOWER_USER``/``BATCHLAB_FLOWER_PASSWORD`` become
its ``FLOWER_BASIC_AUTH``; ``FLOWER_ENABLE_EVENTS`` defaults to false, since workers send
events by configuration and Flower's "enable events" broadcast every 5 s would only cost an
SNS Publish each time.

Versions are pinned (celery/kombu/flower, pyproject.toml); ``tests/unit/test_events_sqs.py``
fails with a clear message if an upgrade changes the versions or the internals used here,
and ``tests/integration/test_flower.py`` runs it all with real processes.
:func:`version_problems` tells the same at runtime (a warning at start).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from importlib import metadata

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from celery.app.control import Control as _CeleryControl
from kombu import pidbox
from kombu.exceptions import KombuError
from kombu.transport import SQS
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps
from kombu.utils.objects import cached_property

from core.settings import settings
from tasks import event_queues, sns_batch
from tasks import transport as batching
from tasks.event_queues import (  # noqa: F401 - re-exported: the names are part of this module's API
    CONTROL_NAMESPACE,
    EVENT_EXCHANGE,
    EVENT_QUEUE_PREFIX,
    PIDBOX_EXCHANGE,
    REPLY_EXCHANGE,
    node,
    own_queue_name,
    reply_oid,
    role,
    sqs_name,
)

logger = logging.getLogger(__name__)

#: Versions this module was written and tested against.
PINNED = {"celery": "5.7.0", "kombu": "5.7.0", "flower": "2.2.0"}

#: Attributes of every queue created here. 60 s is SQS's minimum retention:
#: events and commands are worthless after that, and an orphan stays small.
QUEUE_ATTRIBUTES = {"MessageRetentionPeriod": "60", "VisibilityTimeout": "30"}
#: Long poll of reply queues (s): ``inspect`` waits ``timeout`` plus at most this.
REPLY_WAIT_SECONDS = 1
#: A control command older than its ``expires`` header plus this is dropped.
COMMAND_GRACE_SECONDS = 10.0

#: (region, SQS name) → URL of the queues created here, for the whole process: Celery
#: opens many connections (pools), and each would otherwise call CreateQueue again.
_queue_urls: dict[tuple[str, str], str] = {}


# ----------------------------------------------------------------------- transport


class Channel(batching.Channel):
    """Our SQS channel (tasks.transport) with events/pidbox over SNS (see the module docstring)."""

    @cached_property
    def predefined_queues(self):
        # This connection's copy, so the queues added by _new_queue never leak into app.conf.
        return self.connection.predefined_queues

    def canonical_queue_name(self, queue_name):
        return own_queue_name(queue_name) or super().canonical_queue_name(queue_name)

    def _new_queue(self, queue, **kwargs):
        name = own_queue_name(queue)
        if name is None:
            return super()._new_queue(queue, **kwargs)
        url = _queue_urls.get((self.region, name))
        if url is None:
            url = _queue_urls[(self.region, name)] = self._ensure_queue(name)
        self._queue_cache[name] = url
        if self.predefined_queues:
            # kombu looks queues up by Celery's name and by the SQS name.
            for alias in (queue, name):
                self.predefined_queues.setdefault(alias, {"url": url})
        return url

    def _ensure_queue(self, name: str) -> str:
        sqs = self.sqs()  # the default client: allowed for any queue, predefined or not
        try:
            return sqs.create_queue(QueueName=name, Attributes=QUEUE_ATTRIBUTES)["QueueUrl"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]  # exists with other attributes
        sqs.set_queue_attributes(QueueUrl=url, Attributes=QUEUE_ATTRIBUTES)
        return url

    def exchange_declare(self, exchange=None, type="direct", *args, **kwargs):
        if exchange == EVENT_EXCHANGE:
            type = "fanout"  # Celery declares it "topic": in-process bindings only
        return super().exchange_declare(exchange, type, *args, **kwargs)

    def _put_fanout(self, exchange, message, routing_key, **kwargs):
        if exchange != EVENT_EXCHANGE:
            return super()._put_fanout(exchange, message, routing_key, **kwargs)
        # What kombu's _put_fanout would Publish, handed to the batcher instead.
        try:
            attributes = message.get("properties", {}).get("message_attributes")
            item = sns_batch.Pending(
                client=self.fanout.get_client(exchange),
                topic_arn=self.fanout._get_or_create_topic(exchange),
                message=dumps(message),
                attributes=self.fanout.serialise_message_attributes(attributes) or None,
            )
        except (BotoCoreError, ClientError, KombuError, OSError) as exc:
            logger.warning("Celery event %s not published to SNS: %r", routing_key, exc)
            return
        sns_batch.batcher(settings.events_batch_seconds).submit(item)

    def _new_boto_client(self, service, region, access_key_id, secret_access_key,
                         session_token=None, config=None):
        if service == "sns":
            bounded = Config(
                connect_timeout=settings.aws_connect_timeout,
                read_timeout=settings.aws_read_timeout,
                retries={"total_max_attempts": settings.aws_max_attempts, "mode": "standard"},
            )
            config = bounded if config is None else bounded.merge(config)
        return super()._new_boto_client(
            service, region, access_key_id, secret_access_key, session_token, config
        )

    def _delete_message(self, queue_name, message):
        if self.hub is not None:
            return super()._delete_message(queue_name, message)
        self.sqs(queue=queue_name).delete_message(
            QueueUrl=self._new_queue(queue_name), ReceiptHandle=message["ReceiptHandle"]
        )

    def _messages_to_python(self, messages, queue):
        if self.hub is not None or queue not in self._noack_queues or len(messages) < 2:
            return super()._messages_to_python(messages, queue)
        # No-ack without an event loop (Flower's event thread): kombu would delete each
        # message with its own DeleteMessage; one DeleteMessageBatch per receive instead.
        payloads = [
            self._prepare_json_payload(bytes_to_str(self._decode_python_message_body(m["Body"])))
            for m in messages
        ]
        url = self._new_queue(queue)
        sqs = self.sqs(queue=queue)
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            try:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ])
            except (BotoCoreError, ClientError, OSError) as exc:
                # Best effort, as events are: undeleted messages come back once (60 s retention).
                logger.warning("%d event message(s) not deleted: %r", len(chunk), exc)
        return payloads

    def _receive_message(self, queue, max_number_of_messages=1, wait_time_seconds=None):
        if queue.endswith("." + REPLY_EXCHANGE):
            wait_time_seconds = REPLY_WAIT_SECONDS
        return super()._receive_message(queue, max_number_of_messages, wait_time_seconds)

    def _lookup(self, exchange, routing_key, default=None):
        queues = super()._lookup(exchange, routing_key, default)
        if not queues and exchange == REPLY_EXCHANGE:
            # The asker bound its reply queue in its own process; we know it by name.
            queue = f"{routing_key}.{REPLY_EXCHANGE}"
            return [queue] if own_queue_name(queue) else []
        return queues


class Transport(batching.Transport):
    """Our SQS transport (tasks.transport), plus fanout (SNS) for Celery's events and remote control."""

    Channel = Channel
    implements = SQS.Transport.implements.extend(exchange_type=frozenset(["direct", "fanout"]))

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        options = client.transport_options
        if not options.get("supports_fanout"):
            raise KombuError(f"{__name__}.Transport needs broker_transport_options supports_fanout")
        self.predefined_queues = dict(options.get("predefined_queues") or {})


# --------------------------------------------------------------------- remote control


class Node(pidbox.Node):
    """A worker's mailbox: drops commands that expired well before they arrived."""

    def handle_message(self, body, message=None):
        expires = (message.headers.get("expires") if message is not None else None) or 0
        if expires and expires + COMMAND_GRACE_SECONDS < time.time():
            logger.info("dropping expired control command %r", body.get("method"))
            return None
        return super().handle_message(body, message)


class Mailbox(pidbox.Mailbox):
    """One deterministic reply queue per process; replying calls take turns on it."""

    node_cls = Node
    _reply_lock = threading.Lock()

    @property
    def oid(self):
        return reply_oid()

    def _broadcast(self, command, arguments=None, destination=None, reply=False, timeout=1,
                   limit=None, callback=None, channel=None, serializer=None, pattern=None,
                   matcher=None):
        call = super()._broadcast
        args = (command, arguments, destination, reply, timeout, limit, callback, channel,
                serializer, pattern, matcher)
        if not reply:
            return call(*args)
        with self._reply_lock:  # two collectors on one queue would steal each other's replies
            return call(*args)


class Control(_CeleryControl):
    Mailbox = Mailbox


# --------------------------------------------------------------------------- install


def version_problems() -> list[str]:
    """Differences between the installed and the pinned celery/kombu/flower versions."""
    problems = []
    for package, pinned in PINNED.items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pinned:
            problems.append(f"{package} {installed} installed, {__name__} is written for {pinned}")
    return problems


def _configure_flower() -> None:
    """Flower reads FLOWER_* variables after the app is loaded; set its defaults from settings."""
    if settings.flower_user and settings.flower_password:
        os.environ.setdefault(
            "FLOWER_BASIC_AUTH", f"{settings.flower_user}:{settings.flower_password}"
        )
    # Workers send events by configuration: Flower's "enable events" broadcast every 5 s
    # would only cost an SNS publish each time.
    os.environ.setdefault("FLOWER_ENABLE_EVENTS", "false")
    if "FLOWER_BASIC_AUTH" not in os.environ:
        address = event_queues.option("address") or os.environ.get("FLOWER_ADDRESS", "")
        if address not in ("127.0.0.1", "localhost", "::1"):
            # Flower can revoke tasks and shut workers down: never open beyond loopback.
            raise SystemExit(
                f"refusing to start Flower on {address or 'all interfaces'!r} without a password: "
                "set BATCHLAB_FLOWER_USER and BATCHLAB_FLOWER_PASSWORD, or --address=127.0.0.1"
            )


def install(app) -> None:
    """Route ``app``'s events and remote control through SNS, if events are enabled.

    In a Flower process, also set Flower's defaults (auth) from settings. In an event
    reader (Flower, ``celery events``), claim its event queue: a second reader on this host
    exits here with a clear message (tasks/event_queues.py). Otherwise only sets
    configuration, lazily: nothing is loaded or connected here.
    """
    if role() == "flower":
        _configure_flower()
    if not settings.events_enabled:
        return
    event_queues.claim_event_queue()
    for problem in version_problems():
        logger.warning("%s: check tasks/events_sqs.py still works", problem)
    app.conf.update(
        broker_transport=f"{__name__}:Transport",
        event_exchange=EVENT_EXCHANGE,
        event_queue_prefix=EVENT_QUEUE_PREFIX,
        control_exchange=CONTROL_NAMESPACE,
    )
    app.control_cls = Control
