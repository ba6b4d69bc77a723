"""At-least-once without surprises, against real processes on their own moto.

Short timeouts make the failure paths quick: visibility 10 s, a 6 s lease
(heartbeat every 2 s), 3 receives before the DLQ, 1 s long polls.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise

import httpx
import pytest

from core.devstack import Stack, wait_for
from core.operations.dlq import job_id_of
from tests.conftest import Live

FAST = {
    "BATCHLAB_VISIBILITY_TIMEOUT": "10",
    "BATCHLAB_LEASE_SECONDS": "6",
    "BATCHLAB_MAX_RECEIVE_COUNT": "3",
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
    "BATCHLAB_SIMULATE_CRASH_ENABLED": "true",
    "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "20",
}


@pytest.fixture(scope="module")
def rstack(tmp_path_factory) -> Iterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("reliability-logs"), extra_env=FAST)
    try:
        stack.start_moto()
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture(scope="module")
def rlive(rstack) -> Iterator[Live]:
    _, url = rstack.start_api()
    rstack.start_worker()
    rstack.start_worker()
    with httpx.Client(base_url=url, timeout=30) as http:
        yield Live(stack=rstack, api_url=url, http=http)


def workers(stack: Stack):
    return [s for s in stack.services if s.name.startswith("worker") and s.alive()]


def raw_item(live: Live, job_id: str) -> dict:
    item = live.aws("dynamodb").get_item(TableName="Jobs", Key={"JobId": {"S": job_id}},
                                         ConsistentRead=True)["Item"]
    return item


def queue_count(live: Live, name: str) -> int:
    sqs = live.aws("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return sum(int(attrs[k]) for k in ("ApproximateNumberOfMessages",
                                       "ApproximateNumberOfMessagesNotVisible",
                                       "ApproximateNumberOfMessagesDelayed"))


def wait_status(live: Live, job_id: str, status: str, timeout: float = 60) -> dict:
    return wait_for(
        lambda: (j := live.http.get(f"/api/jobs/{job_id}").json())["status"] == status and j,
        timeout=timeout, what=f"job {job_id} to be {status}", every=0.1,
    )


def processing_starts(job: dict) -> list[datetime]:
    return [datetime.fromisoformat(h["at"].replace("Z", "+00:00"))
            for h in job["history"] if h["status"] == "PROCESSING"]


def test_a_job_that_kills_its_worker_ends_failed_in_the_dlq_and_redrive_works(rlive):
    job = rlive.submit("simulate", {"crash": True})
    failed = rlive.wait_terminal(job["id"], timeout=120)
    # Attempts, status text and the DLQ agree the moment FAILED is visible (issue 12, item 18).
    assert failed["status"] == "FAILED"
    assert failed["attempts"] == failed["maxAttempts"] == 3
    assert "died during each of its 3 attempts" in failed["error"]
    assert "dead-letter queue" in failed["error"]
    assert queue_count(rlive, "batchlab-jobs-dlq") == 1
    # Each dead pool child's job was taken over about a lease (6 s) later: its
    # delivery given back at once was held until the lease ran out.
    starts = processing_starts(failed)
    assert len(starts) == 3
    assert all(5 <= (b - a).total_seconds() < 6 + 15 for a, b in pairwise(starts)), starts
    assert all(w.alive() for w in workers(rlive.stack))  # prefork: only the pool child died

    moved = rlive.http.post("/api/dlq/redrive").json()
    assert moved == {"moved": 1, "jobIds": [job["id"]]}
    assert queue_count(rlive, "batchlab-jobs-dlq") == 0
    again = rlive.http.get(f"/api/jobs/{job['id']}").json()
    # The history (its last four transitions) shows FAILED → QUEUED: the redrive (and
    # maybe the next start already).
    statuses = [h["status"] for h in again["history"]]
    assert ("FAILED", "QUEUED") in set(pairwise(statuses)), statuses
    # A redrive is a fresh start: the old outcome is gone (the history keeps it).
    assert again["error"] is None and again["finishedAt"] is None
    assert again["attempts"] <= 1
    # It still crashes, so it goes round again: FAILED and back in the DLQ.
    failed_again = rlive.wait_terminal(job["id"], timeout=120)
    assert failed_again["status"] == "FAILED" and failed_again["attempts"] == 3
    assert queue_count(rlive, "batchlab-jobs-dlq") == 1


def test_kill_9_of_a_worker_mid_job_another_worker_finishes_it_once(rlive):
    job = rlive.submit("simulate", {"durationSeconds": 3, "steps": 3})
    wait_status(rlive, job["id"], "PROCESSING")
    holder = wait_for(
        lambda: next((w for w in workers(rlive.stack) if f"job {job['id']} attempt 1" in w.log()), None),
        timeout=10, what="the worker holding the job",
    )
    holder.signal_group(signal.SIGKILL)
    holder.proc.wait(timeout=10)
    if len(workers(rlive.stack)) < 2:
        rlive.stack.start_worker()
    done = rlive.wait_terminal(job["id"], timeout=90)
    assert done["status"] == "COMPLETED"
    assert done["attempts"] == 2
    item = raw_item(rlive, job["id"])
    assert item["TerminalWrites"]["N"] == "1"
    while len(workers(rlive.stack)) < 2:
        rlive.stack.start_worker()


def test_a_job_longer_than_the_visibility_timeout_runs_once(rlive):
    job = rlive.submit("simulate", {"durationSeconds": 16, "steps": 8})
    seen_progress = wait_for(
        lambda: 0 < rlive.http.get(f"/api/jobs/{job['id']}").json()["progress"] < 100,
        timeout=30, what="progress to be reported",
    )
    assert seen_progress
    done = rlive.wait_terminal(job["id"], timeout=60)
    assert done["status"] == "COMPLETED"
    assert done["attempts"] == 1
    assert [h["status"] for h in done["history"]] == ["QUEUED", "PROCESSING", "COMPLETED"]


def test_cancel_a_running_job_stops_it_and_a_second_cancel_is_409(rlive):
    job = rlive.submit("simulate", {"durationSeconds": 30, "steps": 30})
    wait_status(rlive, job["id"], "PROCESSING")
    resp = rlive.http.post(f"/api/jobs/{job['id']}/cancel")
    assert resp.status_code == 200 and resp.json()["status"] == "CANCELLED"
    wait_for(lambda: any(f"job {job['id']} cancelled while running" in w.log()
                         for w in rlive.stack.services if w.name.startswith("worker")),
             timeout=20, what="the handler to notice the cancellation")
    final = rlive.http.get(f"/api/jobs/{job['id']}").json()
    assert final["status"] == "CANCELLED" and final["result"] is None
    again = rlive.http.post(f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_sigterm_lets_the_running_job_finish_then_the_worker_exits(rlive):
    job = rlive.submit("simulate", {"durationSeconds": 4, "steps": 4})
    wait_status(rlive, job["id"], "PROCESSING")
    holder = wait_for(
        lambda: next((w for w in workers(rlive.stack) if f"job {job['id']} attempt 1" in w.log()), None),
        timeout=10, what="the worker holding the job",
    )
    signalled = time.monotonic()
    holder.proc.send_signal(signal.SIGTERM)
    holder.proc.wait(timeout=40)
    stopped_after = time.monotonic() - signalled
    done = rlive.wait_terminal(job["id"], timeout=30)
    assert done["status"] == "COMPLETED" and done["attempts"] == 1
    # It stopped when the job ended (DynamoDB told it), not after Celery's sleep of the
    # whole grace (20 s here; it took 23.7 s before tasks/shutdown.py's wait_for_held).
    assert "shutdown: the running job ended, stopping now" in holder.log()
    assert stopped_after < float(FAST["BATCHLAB_SHUTDOWN_GRACE_SECONDS"]), stopped_after
    while len(workers(rlive.stack)) < 2:
        rlive.stack.start_worker()


def test_sigterm_stops_an_idle_worker_without_waiting_the_grace(rstack):
    """Celery sleeps the whole soft-shutdown grace (20 s here) even with nothing to
    finish; a worker that holds no job stops at once (tasks/shutdown.py)."""
    worker = rstack.start_worker(side_queue(rstack, "idle-jobs"))
    started = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    worker.proc.wait(timeout=40)
    # Half the grace: far above a worker's own stop time, far below the old sleep.
    assert time.monotonic() - started < 10, "the idle worker slept through its grace"
    assert "no job to finish, stopping now" in worker.log()


def side_queue(stack: Stack, name: str, **extra: str) -> dict[str, str]:
    """The env of a queue pair of its own, so the module's two workers never see it."""
    env = {"BATCHLAB_QUEUE_NAME": name, "BATCHLAB_DLQ_NAME": f"{name}-dlq", **extra}
    stack.bootstrap(env=env)
    return env


def test_a_duplicate_delivery_never_takes_a_job_from_its_live_holder(rlive, rstack):
    """Issue 12, item 17: a copy received with receive count 2 while the holder runs is held."""
    env = side_queue(rstack, "dup-jobs")
    api, url = rstack.start_api(env)
    worker = None
    try:
        job = httpx.post(f"{url}/api/jobs", json={
            "name": "dup", "type": "simulate", "ownerId": "dup",
            "payload": {"durationSeconds": 8, "steps": 8}}).json()
        sqs = rlive.aws("sqs")
        dup_url = sqs.get_queue_url(QueueName="dup-jobs")["QueueUrl"]
        # No worker reads dup-jobs yet: hold the job's message (its first receive) and
        # send a copy of it, as SQS may deliver one message twice.
        copy = sqs.receive_message(QueueUrl=dup_url, VisibilityTimeout=600,
                                   WaitTimeSeconds=5)["Messages"][0]
        assert job_id_of(copy["Body"]) == job["id"]
        sqs.send_message(QueueUrl=dup_url, MessageBody=copy["Body"])
        worker = rstack.start_worker(env, "--concurrency", "2")
        wait_status(rlive, job["id"], "PROCESSING", timeout=60)
        sqs.change_message_visibility(QueueUrl=dup_url, ReceiptHandle=copy["ReceiptHandle"],
                                      VisibilityTimeout=0)  # its second receive, while the holder runs
        worker.wait_log(f"job {job['id']} is held by a live attempt", timeout=30)
        done = rlive.wait_terminal(job["id"], timeout=60)
        assert done["status"] == "COMPLETED"
        assert done["attempts"] == 1
        assert [h["status"] for h in done["history"]] == ["QUEUED", "PROCESSING", "COMPLETED"]
        assert "cancelled while running" not in worker.log()
    finally:
        for service in (worker, api):
            if service is not None:
                service.stop(timeout=40)


def pool_children(worker) -> list[int]:
    with open(f"/proc/{worker.pid}/task/{worker.pid}/children") as f:
        return [int(p) for p in f.read().split()]


def test_a_killed_pool_child_is_taken_over_about_a_lease_later(rlive):
    job = rlive.submit("simulate", {"durationSeconds": 6, "steps": 6})
    wait_status(rlive, job["id"], "PROCESSING")
    holder = wait_for(
        lambda: next((w for w in workers(rlive.stack) if f"job {job['id']} attempt 1" in w.log()), None),
        timeout=10, what="the worker holding the job",
    )
    for pid in pool_children(holder):
        os.kill(pid, signal.SIGKILL)
    done = rlive.wait_terminal(job["id"], timeout=60)
    assert done["status"] == "COMPLETED" and done["attempts"] == 2
    first, second = processing_starts(done)
    assert (second - first).total_seconds() < 6 + 15  # a lease, and slack for a loaded machine
    assert raw_item(rlive, job["id"])["TerminalWrites"]["N"] == "1"


def test_sigterm_gives_prefetched_messages_back_at_once(rlive, rstack):
    """Issue 12, item 13: another worker starts them long before the first one exits."""
    # A visibility timeout longer than the test: only a give-back brings the messages back.
    env = side_queue(rstack, "term-jobs", BATCHLAB_VISIBILITY_TIMEOUT="120")
    api, url = rstack.start_api(env)
    first = rstack.start_worker(env)
    second = None
    try:
        def post(payload: dict) -> str:
            resp = httpx.post(f"{url}/api/jobs", json={"name": "t", "type": "simulate",
                                                       "ownerId": "term", "payload": payload})
            assert resp.status_code == 202, resp.text
            return resp.json()["id"]

        long_id = post({"durationSeconds": 14, "steps": 14})
        behind = [post({"durationSeconds": 0}) for _ in range(3)]
        wait_status(rlive, long_id, "PROCESSING")
        wait_for(lambda: queue_count(rlive, "term-jobs") == 4 and visible(rlive, "term-jobs") == 0,
                 timeout=30, what="the first worker to prefetch the three jobs")
        second = rstack.start_worker(env)
        assert rlive.http.get(f"/api/jobs/{behind[0]}").json()["status"] == "QUEUED"
        first.proc.send_signal(signal.SIGTERM)
        for job_id in behind:
            done = rlive.wait_terminal(job_id, timeout=15)  # the grace is 20 s
            assert done["status"] == "COMPLETED" and done["attempts"] == 1
        assert first.alive(), "the prefetched jobs should run while the first worker drains"
        assert not any(f"job {j} attempt" in first.log() for j in behind)
        first.proc.wait(timeout=60)
        long_job = rlive.wait_terminal(long_id, timeout=30)
        assert long_job["status"] == "COMPLETED" and long_job["attempts"] == 1
    finally:
        for service in (second, first, api):
            if service is not None:
                service.stop(timeout=40)


def visible(live: Live, name: str) -> int:
    sqs = live.aws("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture(scope="module")
def probe_api(rstack) -> Iterator[str]:
    """An API on a queue no worker reads, to count the messages it sends."""
    env = {"BATCHLAB_QUEUE_NAME": "probe-jobs", "BATCHLAB_DLQ_NAME": "probe-jobs-dlq"}
    rstack.bootstrap(env=env)
    api, url = rstack.start_api(env)
    yield url
    api.stop()


def test_idempotency_key_same_body_same_job_and_the_replay_sends_again(rlive, probe_api):
    body = {"name": "idem", "type": "sha256", "payload": {"text": "x"}, "ownerId": "idem"}
    key = str(uuid.uuid4())
    first = httpx.post(f"{probe_api}/api/jobs", json=body, headers={"Idempotency-Key": key})
    second = httpx.post(f"{probe_api}/api/jobs", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    # Sent before stored: a replay sends again (the stored job may never have got its
    # message, e.g. an API killed mid-request); a worker acks the spare as a duplicate.
    assert queue_count(rlive, "probe-jobs") == 2
    other = httpx.post(f"{probe_api}/api/jobs", json={**body, "name": "changed"},
                       headers={"Idempotency-Key": key})
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    # Another owner with the same key gets their own job.
    bob = httpx.post(f"{probe_api}/api/jobs", json={**body, "ownerId": "bob"},
                     headers={"Idempotency-Key": key})
    assert bob.status_code == 202 and bob.json()["id"] != first.json()["id"]


def test_cancel_a_queued_job(probe_api):
    body = {"name": "c", "type": "sha256", "payload": {"text": "x"}, "ownerId": "canceller"}
    job = httpx.post(f"{probe_api}/api/jobs", json=body).json()
    resp = httpx.post(f"{probe_api}/api/jobs/{job['id']}/cancel")
    assert resp.status_code == 200
    assert [h["status"] for h in resp.json()["history"]] == ["QUEUED", "CANCELLED"]


def test_a_failed_send_answers_503_and_leaves_no_job(rstack):
    bogus = {"BATCHLAB_QUEUE_URL": f"{rstack.env['AWS_ENDPOINT_URL']}/123456789012/no-such-queue",
             "BATCHLAB_DLQ_URL": f"{rstack.env['AWS_ENDPOINT_URL']}/123456789012/no-such-dlq"}
    api, url = rstack.start_api(bogus)
    try:
        owner = f"gap-{uuid.uuid4().hex[:6]}"
        body = {"name": "gap", "type": "sha256", "payload": {"text": "x"}, "ownerId": owner}
        resp = httpx.post(f"{url}/api/jobs", json=body, timeout=30)
        assert resp.status_code == 503, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert int(resp.headers["retry-after"]) > 0
        assert httpx.get(f"{url}/api/jobs", params={"ownerId": owner}).json()["items"] == []
    finally:
        api.stop()


def timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    resp = call()
    return resp, time.monotonic() - started


@pytest.mark.parametrize("frozen", ["moto1", "moto2"], ids=["sqs-sns", "dynamodb"])
def test_backend_down_gives_a_503_within_3_s_and_nothing_accepted_is_lost(rlive, frozen):
    """Issue 12, item 16: the API's AWS calls are bounded at 3 s in all (connect, read, retries)."""
    moto = next(s for s in rlive.stack.services if s.name == frozen)
    accepted = [rlive.submit("simulate", {"durationSeconds": 0.5}) for _ in range(4)]
    body = {"name": "n", "type": "sha256", "payload": {"text": "x"}, "ownerId": "down"}
    moto.signal_group(signal.SIGSTOP)
    try:
        post, post_seconds = timed(lambda: rlive.http.post("/api/jobs", json=body))
        get, get_seconds = timed(lambda: rlive.http.get(f"/api/jobs/{accepted[0]['id']}"))
        ready, ready_seconds = timed(lambda: rlive.http.get("/readyz"))
    finally:
        moto.signal_group(signal.SIGCONT)
    assert post.status_code == 503, post.text
    assert post.headers["content-type"].startswith("application/problem+json")
    assert post_seconds < 3.5
    # GET reads DynamoDB only: 503 when it is the frozen one, an answer either way.
    assert get.status_code == (503 if frozen == "moto2" else 200), get.text
    assert get_seconds < 3.5
    assert ready.status_code == 503 and ready_seconds < 3.5 * 2  # /readyz checks each backend
    wait_for(lambda: rlive.http.get("/readyz").status_code == 200, timeout=30, what="readiness")
    for job in accepted:
        assert rlive.wait_terminal(job["id"], timeout=120)["status"] == "COMPLETED"
    after = rlive.submit("sha256", {"text": "after the outage"})
    assert rlive.wait_terminal(after["id"], timeout=60)["status"] == "COMPLETED"


@pytest.fixture(scope="module")
def keyed_api(rstack) -> Iterator[str]:
    env = {"BATCHLAB_API_KEYS": json.dumps({"key-alice": "alice-k", "key-bob": "bob-k"}),
           "BATCHLAB_CORS_ORIGINS": json.dumps(["http://app.example"])}
    api, url = rstack.start_api(env)
    yield url
    api.stop()


def test_api_key_mode_isolates_owners(keyed_api):
    alice = {"X-API-Key": "key-alice"}
    bob = {"X-API-Key": "key-bob"}
    body = {"name": "mine", "type": "sha256", "payload": {"text": "x"}}
    assert httpx.post(f"{keyed_api}/api/jobs", json=body).status_code == 401
    assert httpx.post(f"{keyed_api}/api/jobs", json=body,
                      headers={"X-API-Key": "wrong"}).status_code == 401
    job = httpx.post(f"{keyed_api}/api/jobs", json=body, headers=alice).json()
    assert job["ownerId"] == "alice-k"
    spoof = httpx.post(f"{keyed_api}/api/jobs", json={**body, "ownerId": "bob-k"}, headers=alice)
    assert spoof.status_code == 403
    assert httpx.get(f"{keyed_api}/api/jobs/{job['id']}", headers=alice).status_code == 200
    assert httpx.get(f"{keyed_api}/api/jobs/{job['id']}", headers=bob).status_code == 404
    assert httpx.post(f"{keyed_api}/api/jobs/{job['id']}/cancel", headers=bob).status_code == 404
    mine = httpx.get(f"{keyed_api}/api/jobs", headers=alice).json()["items"]
    assert [j["id"] for j in mine] == [job["id"]]
    assert httpx.get(f"{keyed_api}/api/jobs", headers=bob).json()["items"] == []
    assert httpx.get(f"{keyed_api}/api/jobs", params={"ownerId": "alice-k"},
                     headers=bob).status_code == 403


def test_cors_allows_only_configured_origins(keyed_api):
    def preflight(origin):
        return httpx.options(f"{keyed_api}/api/jobs", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})

    assert preflight("http://app.example").headers.get("access-control-allow-origin") == "http://app.example"
    assert "access-control-allow-origin" not in preflight("http://evil.example").headers
