"""Retry-failed feeds the retried children through the batch's window (issue 14, "fair
to everyone else"): a retry of many failures must not put them all in front of other
owners' jobs at once. A stack of its own (window 10, one group), so every process
fills the window with the same setting.

Deterministic: the worker is stopped before the retry, and the retry task is run by a
process of its own (the task's body, as a worker runs it); the jobs queue then holds
what the retry sent, and nothing consumes it until a worker starts again.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from core.batches import layout
from core.devstack import ROOT, Stack, wait_for
from core.settings import Settings
from tests.conftest import Live

WINDOW = 10
ENV = {
    "BATCHLAB_BATCH_WINDOW": str(WINDOW),
    "BATCHLAB_BATCH_SWEEP_SECONDS": "3",
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
    "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "1",
    "BATCHLAB_EVENTS_ENABLED": "false",
}
ITEMS = 120
# Besides the children, the queue may hold the retry task's own message (its run here
# does not consume it), a sweep and a finish task.
OTHER_MESSAGES = 3


@pytest.fixture(scope="module")
def wlive(tmp_path_factory) -> Iterator[Live]:
    stack = Stack(tmp_path_factory.mktemp("batch-retry-window-logs"), extra_env=ENV)
    try:
        stack.start_moto()
        _, url = stack.start_api()
        with httpx.Client(base_url=url, timeout=30) as http:
            yield Live(stack=stack, api_url=url, http=http)
    finally:
        stack.stop_all()


def _in_queue(live: Live) -> int:
    """Messages in the jobs queue, visible or in flight (not the delayed ones)."""
    sqs = live.aws("sqs")
    url = sqs.get_queue_url(QueueName=Settings().queue_name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _ended(live: Live, batch_id: str, status: str) -> dict:
    def ended() -> dict | None:
        batch = live.http.get(f"/api/batches/{batch_id}").json()
        return batch if batch["status"] == status and batch["resultsUrl"] else None

    return wait_for(ended, timeout=180, what=f"batch {batch_id} to end {status}", every=0.3)


def test_retry_failed_sends_the_retried_children_through_the_window(wlive):
    http, stack = wlive.http, wlive.stack
    # Every tenth item succeeds; the others fail on their first attempt only, so the
    # retry completes them (attempts go on counting across a retry).
    items = [{"durationSeconds": 0, "failAttempts": 0 if i % 10 == 0 else 1} for i in range(ITEMS)]
    resp = http.post("/api/batches", json={"name": "retry window", "type": "simulate",
                                           "ownerId": "window", "items": items})
    assert resp.status_code == 202, resp.text
    batch_id = resp.json()["id"]
    worker = stack.start_worker()
    first = _ended(wlive, batch_id, "COMPLETED_WITH_FAILURES")
    assert first["counts"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": 12, "FAILED": 108,
                               "CANCELLED": 0}
    worker.stop()

    retried = http.post(f"/api/batches/{batch_id}/retry-failed")
    assert retried.status_code == 200, retried.text
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from tasks.batches import batch_retry; "
         "print(batch_retry(sys.argv[1]))", batch_id],
        cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "108 children requeued" in run.stdout

    # The counts moved back (the completed children stay counted), and only the
    # window's worth of the retried children is in the queue: the rest wait.
    batch = http.get(f"/api/batches/{batch_id}").json()
    assert batch["status"] == "RUNNING"
    assert batch["counts"] == {"QUEUED": 108, "PROCESSING": 0, "COMPLETED": 12, "FAILED": 0,
                               "CANCELLED": 0}
    assert _in_queue(wlive) <= WINDOW + OTHER_MESSAGES

    # A worker again: the window refills as groups finish, and the batch ends with exact
    # counts. Sampled while it runs, the queue stays far below the 108 an unwindowed
    # retry sends: the window, plus the last group's messages not deleted yet (a worker
    # deletes a message after its task returned, and the refill is sent from inside
    # that task), plus batch task messages.
    stack.start_worker()
    most = 0

    def ended() -> dict | None:
        nonlocal most
        most = max(most, _in_queue(wlive))
        batch = http.get(f"/api/batches/{batch_id}").json()
        return batch if batch["status"] == "COMPLETED" and batch["resultsUrl"] else None

    done = wait_for(ended, timeout=180, what="the retried batch to end", every=0.3)
    assert done["counts"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": ITEMS, "FAILED": 0,
                              "CANCELLED": 0}
    assert most <= 3 * WINDOW
    lines = http.get(f"/api/batches/{batch_id}/results", follow_redirects=True).text.splitlines()
    assert len(lines) == ITEMS


CUT = """
import os, sys
from core.batches import lifecycle, table

real, cuts = table.update_meta, []


def update_meta(batch_id, **kw):
    out = real(batch_id, **kw)
    if kw["expression"].startswith("ADD F :minus_f"):  # a group's take-back, meta half
        cuts.append(1)
        if len(cuts) == 2:
            os._exit(9)  # dies before the counter half: the meta item is left short
    return out


table.update_meta = update_meta
lifecycle.retry_failed(sys.argv[1])
"""


def test_a_retry_task_killed_mid_take_back_loses_no_child_and_counts_none_twice(wlive):
    """The retry task dies between group 1's two take-back writes (meta item done,
    counter not): its message comes back to a worker, whose run takes group 1 back
    again (the meta item is then short, so the batch cannot end early); the window
    re-sends every group, and the sweeper's recount makes the totals exact."""
    http, stack = wlive.http, wlive.stack
    worker = next(s for s in stack.services if s.name.startswith("worker") and s.alive())
    items = [{"durationSeconds": 0, "failAttempts": 0 if i % 10 == 0 else 1} for i in range(30)]
    batch_id = http.post("/api/batches", json={"name": "retry cut", "type": "simulate",
                                               "ownerId": "window", "items": items}).json()["id"]
    _ended(wlive, batch_id, "COMPLETED_WITH_FAILURES")
    worker.stop()
    assert http.post(f"/api/batches/{batch_id}/retry-failed").status_code == 200
    run = subprocess.run([sys.executable, "-c", CUT, batch_id], cwd=ROOT, env=stack.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 9, run.stderr[-3000:]

    rerun = stack.start_worker()  # runs the retry task's message again
    done = _ended(wlive, batch_id, "COMPLETED")
    assert done["counts"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": 30, "FAILED": 0,
                              "CANCELLED": 0}
    meta = wlive.aws("dynamodb").get_item(TableName=Settings().batches_table_name,
                                          Key=layout.meta_key(batch_id), ConsistentRead=True)["Item"]
    assert (meta["C"]["N"], meta["F"]["N"], meta["Rolled"]["N"]) == ("30", "0", "3")
    assert "Retrying" not in meta and "Redo" not in meta
    assert "made no progress since the last sweep; repairing" in rerun.log()  # the recount
