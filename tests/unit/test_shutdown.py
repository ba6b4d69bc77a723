"""tasks/shutdown.py: a stopping worker waits for its running job's end, read from
DynamoDB, instead of sleeping the whole grace (the wait itself runs against real
processes in tests/integration/test_reliability.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tasks import shutdown


@pytest.mark.parametrize(
    ("status", "seen", "ended"),
    [
        ("COMPLETED", False, True),
        ("FAILED", False, True),
        ("CANCELLED", True, True),
        (None, False, True),  # never written: that delivery returns at once
        ("PROCESSING", True, False),
        ("QUEUED", False, False),  # the pool child may be about to start it
        ("QUEUED", True, True),  # a failed attempt was requeued: this delivery is over
    ],
)
def test_job_ended(status, seen, ended):
    assert shutdown.job_ended(status, seen_processing=seen) is ended


def request(name: str, job_id: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, args=[job_id])


def test_waits_while_the_job_runs_and_stops_when_it_ends(monkeypatch):
    statuses = iter(["QUEUED", "PROCESSING", "PROCESSING", "QUEUED"])
    monkeypatch.setattr(shutdown.store, "get_item",
                        lambda job_id, consistent: {"Status": {"S": next(statuses)}})
    monkeypatch.setattr(shutdown.time, "sleep", lambda s: None)
    assert shutdown.wait_for_held([request(shutdown.RUN_JOB, "j")], grace=60)
    assert next(statuses, "read all") == "read all"


def test_gives_up_at_the_grace(monkeypatch):
    clock = iter(range(0, 100))
    monkeypatch.setattr(shutdown.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(shutdown.time, "sleep", lambda s: None)
    monkeypatch.setattr(shutdown.store, "get_item",
                        lambda job_id, consistent: {"Status": {"S": "PROCESSING"}})
    assert not shutdown.wait_for_held([request(shutdown.RUN_JOB, "j")], grace=5)


def test_another_task_held_waits_the_whole_grace(monkeypatch):
    slept = []
    monkeypatch.setattr(shutdown.time, "sleep", slept.append)
    held = [request(shutdown.RUN_JOB, "j"), request("batchlab.batch_ingest", "b")]
    assert not shutdown.wait_for_held(held, grace=7)
    assert slept == [7]
