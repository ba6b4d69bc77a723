"""kill -9 of workers in the middle of a batch (issue 14): the counts stay exact and no
child is counted (or finished) twice. A stack of its own, with short visibility
timeouts and leases so the dead workers' messages come back within seconds."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

from core.batches import layout
from core.devstack import Stack, wait_for
from tests.conftest import Live

FAST = {
    "BATCHLAB_VISIBILITY_TIMEOUT": "10",
    "BATCHLAB_LEASE_SECONDS": "6",
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
    "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "1",
    "BATCHLAB_BATCH_SWEEP_SECONDS": "3",
    "BATCHLAB_BATCH_WINDOW": "40",
    "BATCHLAB_EVENTS_ENABLED": "false",
}


@pytest.fixture(scope="module")
def clive(tmp_path_factory) -> Iterator[Live]:
    stack = Stack(tmp_path_factory.mktemp("batch-crash-logs"), extra_env=FAST)
    try:
        stack.start_moto()
        _, url = stack.start_api()
        stack.start_worker()
        stack.start_worker()
        with httpx.Client(base_url=url, timeout=30) as http:
            yield Live(stack=stack, api_url=url, http=http)
    finally:
        stack.stop_all()


def _workers(stack: Stack):
    return [s for s in stack.services if s.name.startswith("worker") and s.alive()]


def test_kill_9_of_workers_during_a_batch_keeps_the_counts_exact(clive):
    http = clive.http
    # No failing items: a child whose worker dies is run again (attempt 2), so a knob
    # failing attempt 1 only would make the expected split depend on which ones died.
    items = [{"durationSeconds": 0.05} for _ in range(300)]
    batch = http.post("/api/batches", json={"name": "crash", "type": "simulate",
                                            "ownerId": "crash", "items": items}).json()

    def finished() -> int:
        counts = http.get(f"/api/batches/{batch['id']}").json()["counts"]
        return counts["COMPLETED"] + counts["FAILED"]

    for threshold in (40, 140):
        wait_for(lambda t=threshold: finished() >= t, timeout=180, what=f"{threshold} children")
        victim = _workers(clive.stack)[0]
        victim.signal_group(signal.SIGKILL)  # the whole worker: main process and pool child
        victim.proc.wait(timeout=10)
        clive.stack.start_worker()

    done = wait_for(lambda: (b := http.get(f"/api/batches/{batch['id']}").json())["resultsUrl"] and b,
                    timeout=300, what="the batch to end", every=0.5)
    assert done["status"] == "COMPLETED"
    assert done["counts"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": 300, "FAILED": 0,
                              "CANCELLED": 0}
    # Each child finished once (TerminalWrites) and is in exactly one counter set.
    ddb = clive.aws("dynamodb")
    terminal_writes = {}
    ids = [layout.child_id(batch["id"], i) for i in range(300)]
    for start in range(0, 300, 100):
        resp = ddb.batch_get_item(RequestItems={"Jobs": {
            "Keys": [{"JobId": {"S": i}} for i in ids[start:start + 100]],
            "ProjectionExpression": "JobId, TerminalWrites"}})
        for item in resp["Responses"]["Jobs"]:
            terminal_writes[item["JobId"]["S"]] = int(item["TerminalWrites"]["N"])
    assert len(terminal_writes) == 300 and set(terminal_writes.values()) == {1}
    counted: list[int] = []
    for group in range(30):
        counter = ddb.get_item(TableName="Batches", Key=layout.counter_key(batch["id"], group),
                               ConsistentRead=True)["Item"]
        for key in ("C", "F", "X"):
            counted += [int(n) for n in counter.get(key, {}).get("NS", [])]
        assert "RolledUp" in counter
    assert sorted(counted) == list(range(300))
    meta = ddb.get_item(TableName="Batches", Key=layout.meta_key(batch["id"]),
                        ConsistentRead=True)["Item"]
    assert (meta["C"]["N"], meta["F"]["N"], meta["Rolled"]["N"]) == ("300", "0", "30")
