"""The core loop with real processes: moto, uvicorn, a celery worker."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys

from core.devstack import wait_for


def test_jobs_of_every_builtin_type_complete_with_results(live, owner):
    text = "To be, or not to be. That is the question!"
    submitted = {
        "sha256": live.submit("sha256", {"text": text}, owner=owner),
        "text-stats": live.submit("text-stats", {"text": text}, owner=owner),
        "csv-summary": live.submit("csv-summary", {"csv": "a,b\n1,x\n3,y\n"}, owner=owner),
        "simulate": live.submit("simulate", {"durationSeconds": 0.2, "steps": 2}, owner=owner),
    }
    for job in submitted.values():
        assert job["status"] == "QUEUED"
        assert job["attempts"] == 0
    done = {t: live.wait_terminal(j["id"]) for t, j in submitted.items()}
    for job in done.values():
        assert job["status"] == "COMPLETED", job
        assert job["attempts"] == 1
        assert job["startedAt"] and job["finishedAt"]
        assert [h["status"] for h in job["history"]] == ["QUEUED", "PROCESSING", "COMPLETED"]
    assert done["sha256"]["result"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert done["text-stats"]["result"]["words"] == 10
    assert done["csv-summary"]["result"]["columns"][0]["mean"] == 2
    assert done["simulate"]["result"] == {"sleptSeconds": 0.2, "steps": 2}


def test_submit_answers_202_with_location_and_retry_after(live):
    resp = live.http.post(
        "/api/jobs",
        json={"name": "n", "type": "sha256", "payload": {"text": "x"}, "ownerId": "o"},
    )
    assert resp.status_code == 202
    job = resp.json()
    assert resp.headers["location"] == f"/api/jobs/{job['id']}"
    assert int(resp.headers["retry-after"]) >= 1
    assert live.http.get(resp.headers["location"]).json()["id"] == job["id"]


def test_a_permanent_error_fails_at_once_with_its_message(live):
    job = live.submit("csv-summary", {"csv": ",,,\n"})
    done = live.wait_terminal(job["id"])
    assert done["status"] == "FAILED"
    assert done["attempts"] == 1
    assert done["error"] == "the CSV has no header row"
    assert done["result"] is None


def test_a_failing_job_is_retried_then_fails_with_its_error(live):
    job = live.submit("simulate", {"durationSeconds": 0, "failureProbability": 1})
    done = live.wait_terminal(job["id"], timeout=90)
    assert done["status"] == "FAILED"
    assert done["attempts"] == done["maxAttempts"] == 3
    assert done["error"].startswith("gave up after 3 attempts: simulated failure")
    # The last four of its seven transitions (the hot item keeps its history bounded).
    statuses = [h["status"] for h in done["history"]]
    assert statuses == ["PROCESSING", "QUEUED", "PROCESSING", "FAILED"]
    assert done["historyCount"] == 7


def test_the_sqs_message_carries_the_job_id_and_none_of_the_payload(stack):
    """An API on its own queue (no worker reads it), so the message can be read back."""
    probe = {"BATCHLAB_QUEUE_NAME": "probe-jobs", "BATCHLAB_DLQ_NAME": "probe-jobs-dlq"}
    stack.bootstrap(env=probe)
    api, url = stack.start_api(probe)
    try:
        import httpx

        secret = "payload-marker-7f3a9c"
        resp = httpx.post(
            f"{url}/api/jobs",
            json={"name": "probe", "type": "sha256", "payload": {"text": secret}, "ownerId": "p"},
        )
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["id"]
    finally:
        api.stop()
    import boto3

    sqs = boto3.client("sqs", endpoint_url=stack.env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    url = sqs.get_queue_url(QueueName="probe-jobs")["QueueUrl"]
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
        timeout=20,
        what="the probe message",
    )
    assert len(messages) == 1
    raw = messages[0]["Body"]
    envelope = json.loads(base64.b64decode(raw))
    body = json.loads(base64.b64decode(envelope["body"]))
    args, kwargs, _embed = body
    assert args == [job_id]
    assert kwargs == {}
    assert envelope["headers"]["task"] == "batchlab.run_job"
    decoded = base64.b64decode(raw).decode() + base64.b64decode(envelope["body"]).decode()
    assert secret not in decoded and secret not in raw
    assert len(raw) < 2048


def test_a_redelivered_message_for_a_finished_job_does_nothing(live):
    """Send the JobId again, as SQS may: the worker acknowledges it and changes nothing."""
    job = live.wait_terminal(live.submit("sha256", {"text": "once"})["id"])
    assert job["status"] == "COMPLETED"
    subprocess.run(
        [sys.executable, "-c", f"from tasks import enqueue_job; enqueue_job({job['id']!r})"],
        env=live.stack.env, check=True, timeout=60,
    )
    # Whichever worker of the session got it (another module's may have run before).
    workers = [s for s in live.stack.services if s.name.startswith("worker") and s.alive()]
    text = f"job {job['id']} is already COMPLETED"
    wait_for(lambda: any(text in w.log() for w in workers), timeout=30, what=text)
    again = live.http.get(f"/api/jobs/{job['id']}").json()
    assert again["history"] == job["history"]
    assert again["finishedAt"] == job["finishedAt"]


def test_list_is_newest_first_with_paging_and_status_filter(live, owner):
    ids = [live.submit("sha256", {"text": str(i)}, owner=owner)["id"] for i in range(5)]
    failed = live.submit("csv-summary", {"csv": ",\n"}, owner=owner)["id"]
    for job_id in [*ids, failed]:
        live.wait_terminal(job_id)
    seen, cursor = [], None
    while True:
        params = {"ownerId": owner, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = live.http.get("/api/jobs", params=params).json()
        assert len(page["items"]) <= 2
        seen += [j["id"] for j in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == [failed, *reversed(ids)]
    completed = live.http.get("/api/jobs", params={"ownerId": owner, "status": "COMPLETED"}).json()
    assert [j["id"] for j in completed["items"]] == list(reversed(ids))
    only_failed = live.http.get("/api/jobs", params={"ownerId": owner, "status": "FAILED", "limit": 1})
    assert [j["id"] for j in only_failed.json()["items"]] == [failed]
    assert "payload" not in completed["items"][0]


def test_job_types_list_the_builtins_with_examples(live):
    types = {t["type"]: t for t in live.http.get("/api/job-types").json()}
    assert {"sha256", "text-stats", "csv-summary", "simulate"} <= set(types)
    assert types["sha256"]["example"] == {"text": "hello world"}
    assert types["simulate"]["maxAttempts"] == 3


def test_health_and_readiness(live):
    assert live.http.get("/healthz").json() == {"status": "ok"}
    ready = live.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"dynamodb": "ok", "sqs": "ok"}
    assert live.http.get("/openapi.json").json()["info"]["title"] == "BatchLab"
