"""core/jobs/transitions.py against moto: a valid move is not lost to other writers.

A job's history keeps its last 4 transitions; a writer that does not know the item
(the API's cancel) appends on condition that the list has room, and on a full list
writes again pinned to the item it got back. Another writer (a worker's start, a
failed attempt's retry) may change the job in between, again and again. The status
still allows the move, so the move must win: the CI run of a7edb8c answered a cancel
right after a retry with 409 "the job changed state" because it tried only twice.

Each case runs in a fresh process configured for the session's stack (moto, tables
made by the API's start-up); a botocore hook lets "another writer" make its change
just before each of the transition's own UpdateItem requests, deterministically.
"""

from __future__ import annotations

import json
import subprocess
import sys

from core.devstack import ROOT
from tests.conftest import Live

RACE = r"""
import json, sys
from core.aws import client
from core.jobs import requeue, service, transitions
from core.jobs.job import JobCreate

rivals = int(sys.argv[1])  # how many of the cancel's writes another writer beats
job, _ = service.submit_job(request=JobCreate(name="race", type="sha256",
                            payload={"text": "r"}, ownerId="race"), enqueue=lambda job_id: None)
# A job that ran, was cancelled and retried: its history is full (4 of 4).
started = transitions.start_job(job.id, lease_seconds=60)
assert started.ok
assert transitions.cancel_job(job.id).ok
assert requeue.requeue_finished(job.id, attempts=1, extra_attempts=2, note="retried").ok

# The worker's side: it starts the retried attempt, which fails and is queued again,
# then starts it again..., each time just before the cancel's next write.
moves = []
def rival():
    attempt = len([m for m in moves if m == "start"]) + 1
    if len(moves) % 2 == 0:
        assert transitions.start_job(job.id, lease_seconds=60).ok
        moves.append("start")
    else:
        assert transitions.retry_job(job.id, attempt=attempt, error="boom").ok
        moves.append("retry")

writes, inside = [], []
def before_update(params, **kwargs):
    if inside or "Status" not in params.get("ExpressionAttributeNames", {}).values():
        return
    writes.append(params["Key"]["JobId"]["S"])
    if len(writes) <= rivals:
        inside.append(1)
        try:
            rival()
        finally:
            inside.pop()

events = client("dynamodb").meta.events
events.register("provide-client-params.dynamodb.UpdateItem", before_update)
result = transitions.cancel_job(job.id)
events.unregister("provide-client-params.dynamodb.UpdateItem", before_update)
from core.jobs.hot import unmarshal
item = unmarshal(result.item) if result.item else {}
print(json.dumps({"ok": result.ok, "status": item.get("Status"), "writes": len(writes),
                  "moves": moves, "history": [h["Status"] for h in item.get("History", [])]}))
"""


def race(live: Live, rivals: int) -> dict:
    done = subprocess.run([sys.executable, "-c", RACE, str(rivals)], cwd=ROOT,
                          env=live.stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_cancel_beaten_by_a_worker_twice_still_cancels(live):
    # The worker starts the retried attempt before the cancel's first write, and
    # queues it again after a failure before its second: both leave the job cancellable.
    out = race(live, rivals=2)
    assert out["moves"] == ["start", "retry"]
    assert out["ok"] and out["status"] == "CANCELLED", out
    assert out["writes"] == 3 and out["history"][-1] == "CANCELLED"


def test_a_cancel_gives_up_after_a_bounded_number_of_writes(live):
    # A writer that changes the job before every single write: the cancel stops
    # (the API then answers 409 "try again") instead of looping for ever.
    out = race(live, rivals=100)
    assert not out["ok"] and out["status"] in ("QUEUED", "PROCESSING"), out
    assert out["writes"] == 6
