"""POST /api/jobs:batch: BatchWriteItem + SendMessageBatch, per-job errors."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator

import httpx
import pytest

from core.devstack import wait_for
from tests.integration.test_observability import sample


def job(i: int, **change) -> dict:
    return {"name": f"batch {i}", "type": "sha256", "payload": {"text": f"t{i}"},
            "ownerId": "batcher", **change}


def test_a_batch_runs_and_reports_bad_jobs_one_by_one(live, owner):
    jobs = [job(i, ownerId=owner) for i in range(25)]
    jobs.insert(3, job(99, type="nope", ownerId=owner))
    jobs.insert(7, job(98, payload={"txt": "x"}, ownerId=owner))
    resp = live.http.post("/api/jobs:batch", json={"jobs": jobs})
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["accepted"] == 25 and body["rejected"] == 2
    results = body["results"]
    assert [r["index"] for r in results] == list(range(27))
    bad = {r["index"]: r for r in results if r["status"] != 202}
    assert set(bad) == {3, 7}
    assert bad[3]["status"] == 422 and bad[3]["problem"]["errors"][0]["field"] == "type"
    assert {e["field"] for e in bad[7]["problem"]["errors"]} == {"payload.text", "payload.txt"}
    ids = [r["job"]["id"] for r in results if r["status"] == 202]
    for job_id in ids:
        assert live.wait_terminal(job_id)["status"] == "COMPLETED"
    listed = live.http.get("/api/jobs", params={"ownerId": owner, "limit": 100}).json()["items"]
    assert len(listed) == 25


def test_a_batch_with_no_valid_job_is_a_422_problem(live):
    resp = live.http.post("/api/jobs:batch", json={"jobs": [job(0, type="nope"), job(1, name="")]})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in resp.json()["errors"]}
    assert fields == {"jobs.0.type", "jobs.1.name"}
    assert resp.json()["accepted"] == 0


@pytest.mark.parametrize("jobs", [[], [job(i) for i in range(101)], "not a list"])
def test_batch_size_and_shape_are_validated(live, jobs):
    resp = live.http.post("/api/jobs:batch", json={"jobs": jobs})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"].startswith("jobs")


@pytest.fixture(scope="module")
def probe(stack) -> Iterator[str]:
    """An API on a queue no worker reads, so its messages and requests can be counted."""
    env = {"BATCHLAB_QUEUE_NAME": "batch-probe", "BATCHLAB_DLQ_NAME": "batch-probe-dlq"}
    stack.bootstrap(env=env)
    api, url = stack.start_api(env)
    yield url
    api.stop()


def test_batch_messages_carry_only_job_ids_in_few_requests(stack, probe):
    n = 23
    resp = httpx.post(f"{probe}/api/jobs:batch", json={"jobs": [job(i) for i in range(n)]}, timeout=60)
    assert resp.status_code == 202
    ids = {r["job"]["id"] for r in resp.json()["results"]}
    metrics = httpx.get(f"{probe}/metrics").text
    assert sample(metrics, "batchlab_aws_requests_total", service="sqs",
                  operation="SendMessageBatch") == math.ceil(n / 10)
    assert sample(metrics, "batchlab_aws_requests_total", service="dynamodb",
                  operation="BatchWriteItem") == math.ceil(n / 25)
    import boto3

    sqs = boto3.client("sqs", endpoint_url=stack.env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    url = sqs.get_queue_url(QueueName="batch-probe")["QueueUrl"]
    seen: dict[str, str] = {}

    def drain() -> bool:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            envelope = json.loads(base64.b64decode(m["Body"]))
            args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
            assert kwargs == {} and envelope["headers"]["task"] == "batchlab.run_job"
            seen[args[0]] = m["Body"]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return len(seen) == n

    wait_for(drain, timeout=30, what="all batch messages")
    assert set(seen) == ids
    assert all("t1" not in base64.b64decode(b).decode() for b in seen.values())
