"""Which SQS queue each consumer of Celery events and remote control reads (tasks/events_sqs.py).

Deterministic names, reused. Every event consumer, worker mailbox and control client
gets one SQS queue whose name depends only on what it is and where it runs:
``batchlab-events-<role>-<node>`` (Flower's or ``celery events``' event queue),
``batchlab-pidbox-<worker name>`` (a worker's mailbox), ``batchlab-reply-<role>-<node>``
(replies to ``inspect``/Flower), where role is the celery sub-command (``flower``,
``events``, ``inspect``, ...) and node is ``BATCHLAB_EVENTS_NODE`` or the host name, plus
the port for a Flower (``flower-<node>-<port>``). A restart, a capture retry or ``kill -9``
then reuses the same queue, and SNS's Subscribe is idempotent for the same queue, so nothing
accumulates. We chose this over deleting queues at shutdown plus sweeping stale
``celeryev-*`` queues at start because (1) a killed process never runs its shutdown,
(2) SQS refuses to re-create a deleted queue name for 60 s, so delete-on-exit forces random
names, and (3) a sweep cannot tell a dead consumer's queue from a live one. Queues keep
messages only 60 s (``MessageRetentionPeriod``). Hosts with changing names (containers)
should set ``BATCHLAB_EVENTS_NODE``.

One reader per event queue (issue 12, item 15). SQS gives each message to one receiver, so
two processes reading one event queue split the events between them (two Flowers on one
host saw 23 and 26 of 30 tasks). Hence:

* A Flower's queues carry its port: two Flowers on one host listen on two ports, so each
  has its own event queue, subscribed to the SNS topic, and sees every event. A restart on
  the same port reuses its queues.
* A second process that would read the same event queue on this host (a Flower on the port
  of one still running, a second ``celery events``) exits at start with a message saying
  which process holds it (:func:`claim_event_queue`). The claim is an ``flock`` on a file
  named after the queue in the temp directory, held while the process lives: the kernel
  drops it when the process dies, ``kill -9`` included, so a dead Flower never blocks a
  restart. It cannot see other hosts or containers with their own /tmp that share
  ``BATCHLAB_EVENTS_NODE``: give each its own.
* At a clean exit (SIGTERM, Ctrl-C) the process unsubscribes its event queue from the SNS
  topic (:func:`unsubscribe`), so a stopped Flower costs no more deliveries and its queue is
  empty a minute later. The queue itself is kept for the next start (see (2) above).
  After ``kill -9`` the subscription stays: the queue holds at most 60 s of events and the
  next Flower on that port takes both over. A port (or host) never used again leaves an
  idle queue: delete it with ``aws sqs delete-queue``, and the next consumer start removes
  its subscription (kombu's ``initialise_exchange`` cleanup).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import socket
import sys
import tempfile
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from core.aws import client
from core.settings import settings

logger = logging.getLogger(__name__)

#: Celery's event exchange (SNS topic of the same name) and event queue prefix.
EVENT_EXCHANGE = "batchlab-events"
EVENT_QUEUE_PREFIX = "batchlab-ev"
#: Celery's control namespace: exchanges ``batchlab.pidbox`` (SNS topic
#: ``batchlab-pidbox``) and ``reply.batchlab.pidbox`` (direct, plain SQS).
CONTROL_NAMESPACE = "batchlab"
PIDBOX_EXCHANGE = f"{CONTROL_NAMESPACE}.pidbox"
REPLY_EXCHANGE = f"reply.{CONTROL_NAMESPACE}.pidbox"

#: Celery sub-commands, to name a process's role.
_CELERY_COMMANDS = frozenset(
    "worker flower events inspect control status shell call purge beat result "
    "amqp migrate graph list report upgrade logtool multi".split()
)
#: Roles that consume events: one process per event queue.
EVENT_READERS = frozenset({"flower", "events"})
#: Flower's default port (flower/options.py).
FLOWER_DEFAULT_PORT = "5555"
_SQS_NAME_MAX = 80
#: Open lock files of this process's claims: closing one would release it.
_claims: dict[str, int] = {}


def role(argv: list[str] | None = None) -> str:
    """The celery sub-command this process runs (``flower``, ``worker``...), else its program."""
    argv = sys.argv if argv is None else argv
    for arg in argv[1:]:
        if arg in _CELERY_COMMANDS:
            return arg
    return Path(argv[0]).stem if argv and argv[0] else "python"


def option(name: str, argv: list[str] | None = None) -> str | None:
    """The value of ``--name=value`` or ``--name value`` in ``argv``, else None."""
    argv = sys.argv if argv is None else argv
    found = None
    for i, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            found = arg.split("=", 1)[1]
        elif arg == f"--{name}" and i + 1 < len(argv):
            found = argv[i + 1]
    return found


def flower_port(argv: list[str] | None = None) -> str:
    """The port a Flower listens on: ``--port``, else ``FLOWER_PORT``, else Flower's 5555.

    Read from the command line as Flower will (flower/command.py), because queue names are
    needed when the app is loaded, before Flower parses its options. A port set only in a
    flowerconfig.py is not seen: set it on the command line or in ``FLOWER_PORT``.
    """
    return option("port", argv) or os.environ.get("FLOWER_PORT") or FLOWER_DEFAULT_PORT


def node() -> str:
    """``<role>-<BATCHLAB_EVENTS_NODE or host name>`` (and ``-<port>`` for a Flower): what
    this process's queues are named after."""
    who = role()
    where = f"{who}-{settings.events_node or socket.gethostname()}"
    return f"{where}-{flower_port()}" if who == "flower" else where


def sqs_name(kind: str, who: str) -> str:
    """A legal SQS name ``batchlab-<kind>-<who>`` (≤ 80 chars, a hash keeps long ones unique)."""
    name = f"batchlab-{kind}-" + re.sub(r"[^A-Za-z0-9_-]", "-", who)
    if len(name) > _SQS_NAME_MAX:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[: _SQS_NAME_MAX - 9]}-{digest}"
    return name


def reply_oid() -> str:
    """This process's mailbox id: the routing key *and* SQS name of its reply queue."""
    return sqs_name("reply", node())


def own_queue_name(queue: str) -> str | None:
    """The SQS name of a queue this module manages, from Celery's name for it; else None."""
    if queue.startswith(EVENT_QUEUE_PREFIX + "."):  # Celery: "<prefix>.<uuid4>"
        return sqs_name("events", node())
    if queue.endswith("." + REPLY_EXCHANGE):  # kombu: "<oid>.reply.<ns>.pidbox"
        oid = queue[: -len(REPLY_EXCHANGE) - 1]
        return oid if re.fullmatch(r"batchlab-reply-[A-Za-z0-9_-]{1,65}", oid) else None
    if queue.endswith("." + PIDBOX_EXCHANGE):  # kombu: "<worker name>.<ns>.pidbox"
        return sqs_name("pidbox", queue[: -len(PIDBOX_EXCHANGE) - 1])
    return None


# ------------------------------------------------------------------ one reader per queue


def claim_event_queue(*, lock_dir: Path | None = None) -> str | None:
    """In an event reader (Flower, ``celery events``): be the only reader of its queue here.

    Returns the queue's name (None in other roles); exits with a clear message if another
    live process on this host holds the claim; unsubscribes the queue at a clean exit.
    """
    who = role()
    if who not in EVENT_READERS:
        return None
    name = sqs_name("events", node())
    if name in _claims:
        return name
    path = (lock_dir or Path(tempfile.gettempdir())) / f"{name}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:  # another user's file: it can still be locked, not written
        fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        hint = ("start this one with another --port" if who == "flower"
                else "run one per host, or set another BATCHLAB_EVENTS_NODE")
        raise SystemExit(
            f"another {who} on this host (pid {holder}) already reads SQS queue {name}: "
            f"two readers would split the Celery events between them. Stop it, or {hint}."
        ) from None
    with contextlib.suppress(OSError):  # the holder's pid, for the message above
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _claims[name] = fd
    atexit.register(unsubscribe, name)
    return name


def release(name: str) -> None:
    """Give up a claim (tests; a process's claims otherwise end with it)."""
    fd = _claims.pop(name, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def unsubscribe(queue_name: str) -> int:
    """Remove ``queue_name``'s subscriptions to the event topic; returns how many. Best effort:
    at exit, a failure is logged (the subscription then stays, as after ``kill -9``)."""
    removed = 0
    try:
        sns = client("sns")
        topic = sns.create_topic(Name=EVENT_EXCHANGE)["TopicArn"]  # idempotent: its ARN
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") == "sqs" and sub["Endpoint"].endswith(f":{queue_name}"):
                    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
                    removed += 1
    except (BotoCoreError, ClientError) as exc:
        logger.warning("event queue %s not unsubscribed from SNS: %r", queue_name, exc)
    return removed
