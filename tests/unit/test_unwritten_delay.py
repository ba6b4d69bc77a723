"""tasks.execution.unwritten_delay: a message whose job is not written yet comes back
with growing delays and is dropped after the grace, below maxReceiveCount."""

from __future__ import annotations

import pytest

from tasks.execution import unwritten_delay


def receives_until_dropped(*, grace: float, max_receive_count: int, work: float = 0.1) -> list[int]:
    """The receive counts at which the message is seen, ending with the one that drops it."""
    age, count, seen = 0.0, 1, []
    while True:
        seen.append(count)
        delay = unwritten_delay(age=age, receive_count=count, grace=grace,
                                max_receive_count=max_receive_count)
        if delay is None:
            return seen
        age += delay + work
        count += 1


@pytest.mark.parametrize("max_receive_count", [3, 4, 5, 10, 100])
@pytest.mark.parametrize("grace", [1, 8, 30, 180, 600])
def test_dropped_after_the_grace_before_the_dlq(grace, max_receive_count):
    seen = receives_until_dropped(grace=grace, max_receive_count=max_receive_count)
    assert seen[-1] < max_receive_count  # dropped by a worker, not moved to the DLQ


def test_delays_double_then_cover_the_rest_of_the_grace():
    delays = [unwritten_delay(age=a, receive_count=c, grace=180, max_receive_count=10)
              for a, c in [(0.0, 1), (2.1, 2), (6.2, 3)]]
    assert delays == [2, 4, 8]
    assert unwritten_delay(age=100, receive_count=8, grace=180, max_receive_count=10) == 80
    assert unwritten_delay(age=180, receive_count=2, grace=180, max_receive_count=10) is None


@pytest.mark.parametrize(
    ("answers", "refused"),
    [
        (["none", "none", "ok"], 2),  # the put landed during the in-process tries
        (["none"] * 6, 6),  # never within the tries: all 6 refused, the message comes back
        (["none", "cancelled"], 2),  # written meanwhile, but not startable: refused too
    ],
)
def test_a_start_before_the_put_says_how_many_writes_it_cost(monkeypatch, caplog, answers, refused):
    """tasks.execution._start: each refused start is a write request; the log line lets
    tests/integration/test_cost.py explain a job's writes above 3 exactly."""
    import time

    from core.jobs.transitions import TransitionResult
    from tasks import execution

    replies = iter(answers)

    def start_job(job_id, *, lease_seconds):
        answer = next(replies)
        return TransitionResult(ok=answer == "ok",
                                item=None if answer == "none" else {"Status": {"S": "X"}})

    monkeypatch.setattr(execution.store, "start_job", start_job)
    monkeypatch.setattr(execution.time, "sleep", lambda s: None)
    delivery = execution.Delivery(sent_at=time.time())
    with caplog.at_level("INFO", logger="batchlab.worker"):
        execution._start("j", delivery)
    assert f"{refused} start writes refused" in caplog.text
    assert next(replies, "drained") == "drained"
