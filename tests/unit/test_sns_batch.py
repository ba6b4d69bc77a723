"""tasks/sns_batch.py: batching, limits, failures, flush. A recording stand-in for the SNS client."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import EndpointConnectionError

from core.devstack import wait_for
from tasks.sns_batch import MAX_BATCH_BYTES, Batcher, Pending


class RecordingSns:
    """Records each PublishBatch; ``gate`` (if set) holds every call until released."""

    def __init__(self, *, fail: Exception | None = None, refuse: int = 0) -> None:
        self.calls: list[dict] = []
        self.fail = fail
        self.refuse = refuse
        self.gate: threading.Event | None = None

    def publish_batch(self, **kwargs):
        if self.gate is not None:
            self.gate.wait(10)
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        entries = kwargs["PublishBatchRequestEntries"]
        return {
            "Successful": [{"Id": e["Id"]} for e in entries[self.refuse :]],
            "Failed": [{"Id": e["Id"], "Code": "InternalError", "Message": "refused"}
                       for e in entries[: self.refuse]],
        }


def messages(calls: list[dict]) -> list[str]:
    return [e["Message"] for call in calls for e in call["PublishBatchRequestEntries"]]


def test_messages_go_out_ten_per_request_in_order():
    sns = RecordingSns()
    batcher = Batcher(linger=5)
    sent = [f"event {i}" for i in range(25)]
    for m in sent:
        batcher.submit(Pending(sns, "arn:topic", m))

    assert batcher.flush(timeout=10)
    assert [len(c["PublishBatchRequestEntries"]) for c in sns.calls] == [10, 10, 5]
    assert messages(sns.calls) == sent
    assert {c["TopicArn"] for c in sns.calls} == {"arn:topic"}
    assert [e["Id"] for e in sns.calls[2]["PublishBatchRequestEntries"]] == list("01234")


def test_a_lone_event_waits_at_most_the_linger():
    sns = RecordingSns()
    batcher = Batcher(linger=0.05)
    batcher.submit(Pending(sns, "arn:topic", "alone", {"a": {"DataType": "String"}}))
    wait_for(lambda: sns.calls, timeout=5, what="a lone event sent without a flush", every=0.01)
    entry = sns.calls[0]["PublishBatchRequestEntries"][0]
    assert entry == {"Id": "0", "Message": "alone", "MessageAttributes": {"a": {"DataType": "String"}}}


def test_one_request_per_topic_and_within_the_size_limit():
    sns = RecordingSns()
    batcher = Batcher(linger=5)
    big = "x" * (MAX_BATCH_BYTES // 3 + 1)
    for item in [Pending(sns, "arn:a", "a1"), Pending(sns, "arn:b", "b1"),
                 Pending(sns, "arn:b", big), Pending(sns, "arn:b", big), Pending(sns, "arn:b", big)]:
        batcher.submit(item)

    assert batcher.flush(timeout=10)
    assert [(c["TopicArn"], len(c["PublishBatchRequestEntries"])) for c in sns.calls] == [
        ("arn:a", 1), ("arn:b", 3), ("arn:b", 1)]
    for call in sns.calls:
        assert sum(len(e["Message"]) for e in call["PublishBatchRequestEntries"]) <= MAX_BATCH_BYTES


def test_a_failed_batch_is_logged_and_the_next_one_still_goes(caplog):
    sns = RecordingSns(fail=EndpointConnectionError(endpoint_url="http://sns"))
    batcher = Batcher(linger=5)
    batcher.submit(Pending(sns, "arn:topic", "lost"))
    assert batcher.flush(timeout=10)
    assert "1 Celery event(s) not published to SNS" in caplog.text

    sns.fail = None
    batcher.submit(Pending(sns, "arn:topic", "kept"))
    assert batcher.flush(timeout=10)
    assert messages(sns.calls) == ["lost", "kept"]


def test_entries_sns_refuses_are_logged(caplog):
    sns = RecordingSns(refuse=2)
    batcher = Batcher(linger=5)
    for i in range(3):
        batcher.submit(Pending(sns, "arn:topic", f"e{i}"))
    assert batcher.flush(timeout=10)
    assert "2 of 3 Celery event(s) refused by SNS: refused" in caplog.text


def test_past_max_pending_the_oldest_are_dropped(caplog):
    sns = RecordingSns()
    sns.gate = threading.Event()  # SNS hangs: the first batch is stuck in flight
    batcher = Batcher(linger=0, max_pending=3)
    batcher.submit(Pending(sns, "arn:topic", "in flight"))

    def in_flight() -> bool:
        with batcher._cond:
            return batcher._sending

    wait_for(in_flight, timeout=5, what="the first batch in flight", every=0.01)
    for i in range(5):
        batcher.submit(Pending(sns, "arn:topic", f"e{i}"))
    sns.gate.set()

    assert batcher.flush(timeout=10)
    assert batcher.dropped == 2
    assert messages(sns.calls) == ["in flight", "e2", "e3", "e4"]
    assert "SNS batcher full" in caplog.text


@pytest.mark.parametrize("pending", [0, 4])
def test_flush_returns_false_when_sns_hangs_past_the_timeout(pending):
    sns = RecordingSns()
    sns.gate = threading.Event()
    batcher = Batcher(linger=0)
    for i in range(pending + 1):
        batcher.submit(Pending(sns, "arn:topic", f"e{i}"))
    assert batcher.flush(timeout=0.2) is False
    sns.gate.set()
    assert batcher.flush(timeout=10)
    assert len(messages(sns.calls)) == pending + 1
