"""The batching refill rule of tasks/transport.py, as a single function."""

from types import SimpleNamespace

import pytest

from tasks.transport import QoS


def qos(prefetch: int, held: int) -> QoS:
    q = QoS(SimpleNamespace(do_restore=False), prefetch_count=prefetch)
    for tag in range(held):
        q._delivered[tag] = object()
    return q


@pytest.mark.parametrize(
    ("held", "polls"),
    [(0, True), (1, True), (5, True), (6, False), (9, False), (10, False)],
)
def test_refills_only_when_half_the_buffer_is_free(held, polls):
    assert qos(10, held).can_consume() is polls


def test_prefetch_one_polls_whenever_empty():
    assert qos(1, 0).can_consume() is True
    assert qos(1, 1).can_consume() is False


def test_unlimited_prefetch_always_polls():
    assert qos(0, 50).can_consume() is True
