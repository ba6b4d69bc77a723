"""tasks/events_sqs.py: pinned versions and internals, names, the switch, and a round trip
through SNS fanout on moto in-process (no servers)."""

from __future__ import annotations

import inspect
import os
import sys

import pytest
from celery import Celery
from celery.app.control import Control as CeleryControl
from celery.events.event import get_exchange
from kombu import Connection, Consumer, pidbox
from kombu.transport import SQS
from kombu.transport.SQS.SNS import SNS as SnsFanout
from kombu.utils.objects import cached_property

from tasks import events_sqs
from tasks.events_sqs import (
    EVENT_EXCHANGE,
    EVENT_QUEUE_PREFIX,
    REPLY_EXCHANGE,
    Mailbox,
    Transport,
    own_queue_name,
    reply_oid,
    sqs_name,
)

UPGRADE = (
    "tasks/events_sqs.py overrides kombu/celery/flower internals; an upgrade changed {what}. "
    "Re-check each override listed in its docstring against the new source, run "
    "tests/integration/test_flower.py, then update events_sqs.PINNED and this test."
)


def params(func) -> list[str]:
    return list(inspect.signature(func).parameters)


# ----------------------------------------------------------------- versions and internals


def test_celery_kombu_flower_are_the_pinned_versions():
    problems = events_sqs.version_problems()
    assert not problems, UPGRADE.format(what="; ".join(problems))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("_new_queue", ["self", "queue", "kwargs"]),
        ("canonical_queue_name", ["self", "queue_name"]),
        ("exchange_declare", ["self", "exchange", "type", "durable", "auto_delete",
                              "arguments", "nowait", "passive"]),
        ("_put_fanout", ["self", "exchange", "message", "routing_key", "kwargs"]),
        ("_new_boto_client", ["self", "service", "region", "access_key_id",
                              "secret_access_key", "session_token", "config"]),
        ("_delete_message", ["self", "queue_name", "message"]),
        ("_receive_message", ["self", "queue", "max_number_of_messages", "wait_time_seconds"]),
        ("_messages_to_python", ["self", "messages", "queue"]),
        ("_message_to_python", ["self", "message", "queue_name", "q_url"]),
        ("_prepare_json_payload", ["self", "text"]),
        ("_decode_python_message_body", ["self", "raw_body"]),
        ("_lookup", ["self", "exchange", "routing_key", "default"]),
        ("sqs", ["self", "queue"]),
        ("_resolve_queue_url", ["self", "queue"]),
    ],
)
def test_the_kombu_sqs_channel_methods_we_override_are_unchanged(name, expected):
    assert params(getattr(SQS.Channel, name)) == expected, UPGRADE.format(
        what=f"kombu.transport.SQS.Channel.{name}{inspect.signature(getattr(SQS.Channel, name))}"
    )


def test_the_kombu_sqs_internals_we_rely_on_are_unchanged():
    channel_init = inspect.getsource(SQS.Channel.__init__)
    assert "self.hub = " in channel_init, UPGRADE.format(what="Channel.hub")
    assert isinstance(inspect.getattr_static(SQS.Channel, "predefined_queues"), cached_property)
    # Still the crash we work around: no-ack deletes go through the async client.
    # The no-ack branch our _messages_to_python batches: decode, parse, delete one by one.
    to_python = inspect.getsource(SQS.Channel._message_to_python)
    assert "self._noack_queues" in to_python and "self._delete_message(" in to_python, (
        UPGRADE.format(what="Channel._message_to_python"))
    assert "self.asynsqs(" in inspect.getsource(SQS.Channel._delete_message), UPGRADE.format(
        what="Channel._delete_message (the no-ack crash may be fixed: drop our override)")
    assert SQS.Transport.implements.exchange_type == frozenset({"direct"}), UPGRADE.format(
        what="SQS.Transport.implements (fanout may be declared upstream now)")
    assert "fanout" in Transport.implements.exchange_type


def test_the_pidbox_and_celery_internals_we_rely_on_are_unchanged():
    assert params(pidbox.Mailbox._broadcast) == [
        "self", "command", "arguments", "destination", "reply", "timeout", "limit",
        "callback", "channel", "serializer", "pattern", "matcher"], UPGRADE.format(
        what="kombu.pidbox.Mailbox._broadcast")
    assert params(pidbox.Node.handle_message) == ["self", "body", "message"]
    assert isinstance(inspect.getattr_static(pidbox.Mailbox, "oid"), property)
    assert "self.Mailbox(" in inspect.getsource(CeleryControl.__init__)
    box = Mailbox("batchlab", type="fanout")
    assert box.get_queue("w1@host").name == "w1@host.batchlab.pidbox"
    assert box.reply_queue.name == f"{reply_oid()}.{REPLY_EXCHANGE}"
    assert box.reply_queue.routing_key == reply_oid()
    # Celery still makes the event exchange "topic" on SQS, which is why we declare it fanout.
    with Connection("sqs://") as conn:
        assert get_exchange(conn).type == "topic"


def test_celery_names_event_queues_by_prefix_dot_uuid_and_flower_uses_that_receiver():
    from celery.events.receiver import EventReceiver
    from flower import command, events, options

    app = Celery("t", set_as_current=False)
    app.conf.event_queue_prefix = EVENT_QUEUE_PREFIX
    with Connection("memory://") as conn:
        receiver = EventReceiver(conn, app=app)
        assert receiver.queue.name.startswith(EVENT_QUEUE_PREFIX + ".")
        assert own_queue_name(receiver.queue.name) == sqs_name("events", events_sqs.node())
    assert "EventReceiver(conn," in inspect.getsource(events.Events.run)
    assert {"basic-auth", "enable-events", "address"} <= set(options.default_options._options)
    assert "FLOWER_" == command.ENV_VAR_PREFIX


# ---------------------------------------------------------------------------------- names


def test_sqs_names_are_legal_and_stable():
    name = sqs_name("events", "flower-web-1.example.com")
    assert name == "batchlab-events-flower-web-1-example-com"
    long = sqs_name("pidbox", "w" * 200)
    assert len(long) == 80 and long == sqs_name("pidbox", "w" * 200)
    assert long != sqs_name("pidbox", "w" * 199)


def test_own_queue_names_map_celery_names_to_deterministic_sqs_names():
    node = events_sqs.node()
    assert own_queue_name(f"{EVENT_QUEUE_PREFIX}.0c1d") == f"batchlab-events-{node}"
    assert own_queue_name(f"{EVENT_QUEUE_PREFIX}.ffff") == f"batchlab-events-{node}"
    assert own_queue_name("worker1@vm.batchlab.pidbox") == "batchlab-pidbox-worker1-vm"
    assert own_queue_name(f"{reply_oid()}.{REPLY_EXCHANGE}") == reply_oid()
    # Not ours: left to kombu (the jobs queue), or refused (a foreign reply id).
    assert own_queue_name("batchlab-jobs") is None
    assert own_queue_name(f"0d7c-uuid.{REPLY_EXCHANGE}") is None
    assert own_queue_name(EVENT_EXCHANGE) is None


def test_role_is_the_celery_subcommand():
    assert events_sqs.role(["/x/celery", "-A", "tasks", "flower", "--port=1"]) == "flower"
    assert events_sqs.role(["/x/celery", "-A", "tasks", "inspect", "ping"]) == "inspect"
    assert events_sqs.role(["/x/bin/uvicorn", "api.main:app"]) == "uvicorn"


def test_a_flower_names_its_queues_after_its_port_too(monkeypatch):
    monkeypatch.setattr(events_sqs.settings, "events_node", "vm")
    monkeypatch.delenv("FLOWER_PORT", raising=False)
    monkeypatch.setattr(sys, "argv", ["celery", "-A", "tasks", "flower", "--port=5601"])
    assert events_sqs.node() == "flower-vm-5601"
    assert own_queue_name(f"{EVENT_QUEUE_PREFIX}.1") == "batchlab-events-flower-vm-5601"
    assert reply_oid() == "batchlab-reply-flower-vm-5601"
    monkeypatch.setattr(sys, "argv", ["celery", "-A", "tasks", "flower", "--port", "5602"])
    assert events_sqs.node() == "flower-vm-5602"
    monkeypatch.setattr(sys, "argv", ["celery", "-A", "tasks", "flower"])
    assert events_sqs.node() == "flower-vm-5555"  # Flower's default
    monkeypatch.setenv("FLOWER_PORT", "5603")
    assert events_sqs.node() == "flower-vm-5603"
    monkeypatch.setattr(sys, "argv", ["celery", "-A", "tasks", "events", "--dump"])
    assert events_sqs.node() == "events-vm"


def test_a_second_reader_of_an_event_queue_is_refused_until_the_first_is_gone(
        monkeypatch, tmp_path):
    from tasks import event_queues

    exits: list = []
    monkeypatch.setattr(event_queues.atexit, "register", lambda *a: exits.append(a))
    monkeypatch.setattr(event_queues, "_claims", {})
    monkeypatch.setattr(events_sqs.settings, "events_node", "vm")
    monkeypatch.setattr(sys, "argv", ["celery", "flower", "--port=5601"])
    name = event_queues.claim_event_queue(lock_dir=tmp_path)
    assert name == "batchlab-events-flower-vm-5601"
    assert exits == [(event_queues.unsubscribe, name)]  # a clean exit unsubscribes it
    assert (tmp_path / f"{name}.lock").read_text() == f"{os.getpid()}\n"

    held = event_queues._claims.pop(name)  # as if another process held it: a second flock
    with pytest.raises(SystemExit, match=rf"another flower on this host \(pid {os.getpid()}\) "
                       rf"already reads SQS queue {name}.*another --port"):
        event_queues.claim_event_queue(lock_dir=tmp_path)
    os.close(held)  # the holder exits (even kill -9: the kernel drops the lock)
    assert event_queues.claim_event_queue(lock_dir=tmp_path) == name
    event_queues.release(name)

    monkeypatch.setattr(sys, "argv", ["celery", "-A", "tasks", "worker"])
    assert event_queues.claim_event_queue(lock_dir=tmp_path) is None  # workers read no events


# ---------------------------------------------------------------------------- the switch


def test_install_changes_nothing_when_events_are_disabled(monkeypatch):
    monkeypatch.setattr(events_sqs.settings, "events_enabled", False)
    app = Celery("t", set_as_current=False)
    events_sqs.install(app)
    assert app.conf.broker_transport is None
    assert app.conf.event_exchange == "celeryev"
    assert app.control_cls == "celery.app.control:Control"


def test_install_routes_events_and_control_through_the_transport(monkeypatch):
    monkeypatch.setattr(events_sqs.settings, "events_enabled", True)
    app = Celery("t", set_as_current=False)
    events_sqs.install(app)
    assert app.conf.broker_transport == "tasks.events_sqs:Transport"
    assert app.conf.event_exchange == EVENT_EXCHANGE
    assert isinstance(app.control.mailbox, Mailbox)


def test_flower_gets_basic_auth_from_settings(monkeypatch):
    for var in ("FLOWER_BASIC_AUTH", "FLOWER_ENABLE_EVENTS"):
        monkeypatch.setenv(var, "")  # so that monkeypatch restores (removes) it afterwards
        monkeypatch.delenv(var)
    monkeypatch.setattr(events_sqs.settings, "flower_user", "ann")
    monkeypatch.setattr(events_sqs.settings, "flower_password", "s3cret")
    events_sqs._configure_flower()
    assert os.environ["FLOWER_BASIC_AUTH"] == "ann:s3cret"
    assert os.environ["FLOWER_ENABLE_EVENTS"] == "false"


# ------------------------------------------------- round trip on moto in-process (mock_aws)


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(events_sqs, "_queue_urls", {})
    with mock_aws():
        import boto3

        region = "us-east-1"
        yield boto3.client("sqs", region_name=region), boto3.client("sns", region_name=region)


def _app(jobs_url: str) -> Celery:
    app = Celery("t", set_as_current=False)
    app.conf.update(
        broker_url="sqs://",
        broker_transport="tasks.events_sqs:Transport",
        broker_transport_options={
            "region": "us-east-1",
            "predefined_queues": {"batchlab-jobs": {"url": jobs_url}},
            "supports_fanout": True,
            "wait_time_seconds": 1,
        },
        event_exchange=EVENT_EXCHANGE,
        event_queue_prefix=EVENT_QUEUE_PREFIX,
    )
    return app


def _receive_one_event(app: Celery) -> list[dict]:
    """A no-ack event consumer outside any event loop, as in Flower's event thread."""
    got: list[dict] = []
    with app.connection_for_read() as conn:
        receiver = app.events.Receiver(conn, handlers={"*": got.append})
        channel = conn.channel()
        assert channel.hub is None
        with Consumer(channel, [receiver.queue], callbacks=[receiver._receive], no_ack=True,
                      accept=["json"]):
            with app.connection_for_write() as out:
                app.events.Dispatcher(out, hostname="w1@vm").send("worker-heartbeat", freq=2.0)
            conn.drain_events(timeout=10)
    return got


def test_events_fan_out_through_sns_to_a_reused_queue_without_an_event_loop(aws):
    sqs, sns = aws
    jobs_url = sqs.create_queue(QueueName="batchlab-jobs")["QueueUrl"]
    app = _app(jobs_url)

    first = _receive_one_event(app)
    second = _receive_one_event(app)  # a new receiver (new uuid), as after a restart

    assert [e["type"] for e in first] == ["worker-heartbeat"]
    assert [e["type"] for e in second] == ["worker-heartbeat"]
    queues = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"])
    assert queues == sorted(["batchlab-jobs", sqs_name("events", events_sqs.node())])
    subscriptions = sns.list_subscriptions()["Subscriptions"]
    assert len(subscriptions) == 1
    assert subscriptions[0]["TopicArn"].endswith(f":{EVENT_EXCHANGE}")
    url = sqs.get_queue_url(QueueName=sqs_name("events", events_sqs.node()))["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "60"


def test_flower_deletes_the_events_of_one_receive_with_one_batch_request(aws):
    from core.cost import meter

    meter.install()  # counts this process's AWS requests by operation
    sqs, _ = aws
    app = _app(sqs.create_queue(QueueName="batchlab-jobs")["QueueUrl"])
    _receive_one_event(app)  # creates and subscribes the event queue
    got: list[dict] = []
    with app.connection_for_read() as conn:
        receiver = app.events.Receiver(conn, handlers={"*": got.append})
        with Consumer(conn.channel(), [receiver.queue], callbacks=[receiver._receive],
                      no_ack=True, accept=["json"]):
            with app.connection_for_write() as out:
                dispatcher = app.events.Dispatcher(out, hostname="w1@vm")
                for i in range(3):
                    dispatcher.send("worker-heartbeat", freq=2.0, n=i)
            before = dict(meter.meter().requests)
            while len(got) < 3:
                conn.drain_events(timeout=10)
    requests = {k[1]: n - before.get(k, 0) for k, n in meter.meter().requests.items()
                if k[0] == "sqs"}

    assert sorted(e["n"] for e in got) == [0, 1, 2]
    assert requests.get("DeleteMessage", 0) == 0
    assert 1 <= requests["DeleteMessageBatch"] <= requests["ReceiveMessage"]
    url = sqs.get_queue_url(QueueName=sqs_name("events", events_sqs.node()))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_a_failed_event_publish_is_logged_not_raised(aws, monkeypatch, caplog):
    sqs, _ = aws
    app = _app(sqs.create_queue(QueueName="batchlab-jobs")["QueueUrl"])

    def boom(*args, **kwargs):
        raise OSError("SNS unreachable")

    monkeypatch.setattr(SnsFanout, "_get_or_create_topic", boom)
    with app.connection_for_write() as conn:
        dispatcher = app.events.Dispatcher(conn, hostname="w1@vm", buffer_while_offline=False)
        dispatcher.send("worker-heartbeat", freq=2.0)  # would raise without the override
    assert "Celery event worker.heartbeat not published to SNS" in caplog.text


def test_the_kombu_sns_fanout_internals_we_use_are_unchanged():
    assert params(SnsFanout.get_client) == ["self", "exchange_name"], UPGRADE.format(
        what="SnsFanout.get_client")
    assert params(SnsFanout._get_or_create_topic) == ["self", "exchange_name"], UPGRADE.format(
        what="SnsFanout._get_or_create_topic")
    assert params(SnsFanout.serialise_message_attributes) == ["message_attributes"]
    assert "self.fanout.publish(" in inspect.getsource(SQS.Channel._put_fanout), UPGRADE.format(
        what="Channel._put_fanout (how kombu publishes fanout messages)")


@pytest.mark.parametrize("argv", [["celery", "flower"], ["celery", "flower", "--address=0.0.0.0"]])
def test_flower_refuses_to_listen_beyond_loopback_without_a_password(monkeypatch, argv):
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    monkeypatch.delenv("FLOWER_ADDRESS", raising=False)
    monkeypatch.setattr(events_sqs.settings, "flower_user", None)
    monkeypatch.setattr(events_sqs.settings, "flower_password", None)
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit, match="without a password"):
        events_sqs._configure_flower()


def test_flower_on_loopback_needs_no_password(monkeypatch):
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    monkeypatch.setattr(events_sqs.settings, "flower_user", None)
    monkeypatch.setattr(events_sqs.settings, "flower_password", None)
    monkeypatch.setattr(sys, "argv", ["celery", "flower", "--address=127.0.0.1"])
    events_sqs._configure_flower()
    assert "FLOWER_BASIC_AUTH" not in os.environ
