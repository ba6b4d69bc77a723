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
