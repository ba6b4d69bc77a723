"""Batches (issue 14) on the local stack: real moto, uvicorn and celery workers.

The must-show: a 2,000-item JSON Lines file uploaded through the presigned flow, 5%
of its items failing (simulate's ``failAttempts`` knob: attempt 1 fails, so a retry
succeeds), ends COMPLETED_WITH_FAILURES with exact counts, its results file has 2,000
lines in item order, retry-failed moves the counts back exactly, and the webhook
reaches a local HTTP server once per end with a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest

from core.devstack import ROOT, wait_for
from core.settings import Settings
from tests.conftest import Live

ENV = {
    "BATCHLAB_WEBHOOK_SCHEMES": '["http", "https"]',
    "BATCHLAB_BATCH_SWEEP_SECONDS": "5",
    "BATCHLAB_BATCH_WINDOW": "100",
}
ENDED = {"COMPLETED", "COMPLETED_WITH_FAILURES", "CANCELLED"}


@pytest.fixture(scope="module")
def api(live: Live) -> Iterator[httpx.Client]:
    """An API that accepts http:// webhooks (loopback), and a second worker (events
    off: fewer requests per child), beside the session's."""
    service, url = live.stack.start_api(ENV)
    worker = live.stack.start_worker({**ENV, "BATCHLAB_EVENTS_ENABLED": "false",
                                      "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "1"})
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client
    worker.stop()
    service.stop()


class Hooks(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hook_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def upload(api: httpx.Client, data: bytes, *, owner: str, filename: str,
           content_type: str) -> str:
    plan = api.post("/api/uploads", json={"filename": filename, "contentType": content_type,
                                          "size": len(data), "ownerId": owner})
    assert plan.status_code == 201, plan.text
    plan = plan.json()
    assert plan["kind"] == "single"
    assert httpx.put(plan["url"], content=data, headers=plan["headers"], timeout=60).status_code == 200
    return plan["key"]


def wait_ended(api: httpx.Client, batch_id: str, *, timeout: float = 240) -> dict:
    def ended() -> dict | None:
        batch = api.get(f"/api/batches/{batch_id}").json()
        return batch if batch["status"] in ENDED and batch["resultsUrl"] else None

    return wait_for(ended, timeout=timeout, what=f"batch {batch_id} to end", every=0.5)


def results(api: httpx.Client, batch_id: str) -> list[dict]:
    resp = api.get(f"/api/batches/{batch_id}/results", follow_redirects=True)
    assert resp.status_code == 200, resp.text
    return [json.loads(line) for line in resp.text.splitlines()]


def test_a_2000_item_file_with_5_percent_failing_then_retry_failed(api, hook_url, owner):
    items = [{"durationSeconds": 0, "failAttempts": 1 if i % 20 == 7 else 0} for i in range(2000)]
    data = "".join(json.dumps(item) + "\n" for item in items).encode()
    key = upload(api, data, owner=owner, filename="items.jsonl", content_type="application/x-ndjson")
    resp = api.post("/api/batches", json={"name": "must-show", "type": "simulate", "ownerId": owner,
                                          "object": key, "webhookUrl": hook_url})
    assert resp.status_code == 202, resp.text
    batch = resp.json()
    assert resp.headers["location"] == f"/api/batches/{batch['id']}"
    assert batch["status"] == "RUNNING" and batch["total"] is None

    done = wait_ended(api, batch["id"])
    assert done["status"] == "COMPLETED_WITH_FAILURES"
    assert done["total"] == done["ingested"] == 2000
    assert done["counts"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": 1900, "FAILED": 100,
                              "CANCELLED": 0}
    assert done["progress"] == 100 and done["throughput"] > 0
    assert len(done["failures"]) == 20 and all(f["index"] % 20 == 7 for f in done["failures"])
    lines = results(api, batch["id"])
    assert [line["index"] for line in lines] == list(range(2000))
    assert [line["status"] for line in lines] == [
        "FAILED" if i % 20 == 7 else "COMPLETED" for i in range(2000)]
    assert "error" in lines[7] and lines[0]["result"] == {"sleptSeconds": 0.0, "steps": 1}
    # Children are not in the owner's job list (not in the owner index); the batch is.
    assert api.get("/api/jobs", params={"ownerId": owner}).json()["items"] == []
    listed = api.get("/api/batches", params={"ownerId": owner}).json()["items"]
    assert [b["id"] for b in listed] == [batch["id"]]
    first = wait_for(lambda: [h for h in Hooks.received if h[0]["x-batchlab-batch"] == batch["id"]],
                     timeout=60, what="the webhook")

    retried = api.post(f"/api/batches/{batch['id']}/retry-failed")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "RUNNING"
    again = wait_ended(api, batch["id"])
    assert again["status"] == "COMPLETED"
    assert again["counts"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": 2000, "FAILED": 0,
                               "CANCELLED": 0}
    assert {line["status"] for line in results(api, batch["id"])} == {"COMPLETED"}
    assert api.post(f"/api/batches/{batch['id']}/retry-failed").status_code == 409

    calls = wait_for(lambda: (c := [h for h in Hooks.received
                                    if h[0]["x-batchlab-batch"] == batch["id"]]) and len(c) >= 2 and c,
                     timeout=60, what="the second end's webhook")
    assert len(first) >= 1 and len(calls) == 2  # once per end
    secret = Settings().webhook_secret
    for headers, body in calls:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-batchlab-signature"], expected)
        assert json.loads(body)["id"] == batch["id"]
    assert [json.loads(body)["status"] for _, body in calls] == [
        "COMPLETED_WITH_FAILURES", "COMPLETED"]


DEAD_LETTER = """
import sys
from core.aws import client
from core.queues import RUN_JOB, queue_urls
from core.settings import settings
from tasks.messages import message_body
# The child as a worker's reconcile leaves one whose message SQS dead-lettered: FAILED
# (counted so in its batch), marked DeadLettered, its message in the DLQ.
job_id = sys.argv[1]
client("dynamodb").update_item(TableName=settings.table_name, Key={"JobId": {"S": job_id}},
                               UpdateExpression="SET DeadLettered = :t",
                               ExpressionAttributeValues={":t": {"BOOL": True}})
client("sqs").send_message(QueueUrl=queue_urls().dlq,
                           MessageBody=message_body(job_id, task_name=RUN_JOB))
"""


def test_a_dead_lettered_child_is_redriven_through_its_batch_and_the_counts_follow(api, live, owner):
    items = [{"durationSeconds": 0, "failAttempts": 1 if i < 2 else 0} for i in range(4)]
    resp = api.post("/api/batches", json={"name": "redrive", "type": "simulate", "ownerId": owner,
                                          "items": items})
    batch_id = resp.json()["id"]
    assert wait_ended(api, batch_id)["counts"]["FAILED"] == 2
    child = results(api, batch_id)[0]["jobId"]
    done = subprocess.run([sys.executable, "-c", DEAD_LETTER, child], cwd=ROOT, env=live.stack.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    # A worker's reconcile may hold the DLQ's messages for an instant: try again then.
    moved = wait_for(lambda: (r := api.post(f"/api/dlq/{child}/redrive")).status_code == 200 and r,
                     timeout=30, what="the redrive")
    assert moved.json() == {"moved": 1, "jobIds": [child]}
    # Redriven alone, the child would complete while its batch still counted it FAILED.
    # Through the batch's retry-failed (both failed children) the counts follow exactly.
    again = wait_ended(api, batch_id)
    assert again["status"] == "COMPLETED"
    assert again["counts"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": 4, "FAILED": 0,
                               "CANCELLED": 0}
    assert [line["status"] for line in results(api, batch_id)] == ["COMPLETED"] * 4


def test_inline_items_report_invalid_ones_by_line_and_run_the_rest(api, owner):
    items = [{"text": f"item {i}"} for i in range(30)]
    items[4] = {"text": ""}
    items[11] = {"nope": 1}
    resp = api.post("/api/batches", json={"name": "inline", "type": "sha256", "ownerId": owner,
                                          "items": items})
    assert resp.status_code == 202, resp.text
    invalid = resp.json()["invalid"]
    assert invalid["count"] == 2
    assert [(i["line"], i["index"]) for i in invalid["items"]] == [(5, 4), (12, 11)]
    assert invalid["items"][1]["errors"][0]["field"] in ("text", "nope")
    done = wait_ended(api, resp.json()["id"])
    assert done["status"] == "COMPLETED" and done["total"] == 28
    assert done["counts"]["COMPLETED"] == 28 and done["invalid"]["count"] == 2
    lines = results(api, done["id"])
    expected = hashlib.sha256(b"item 0").hexdigest()
    assert len(lines) == 28 and json.dumps(lines[0]["result"]).find(expected) > 0


def test_all_or_nothing_inline_is_a_422_naming_the_lines(api, owner):
    items = [{"text": "ok"}, {"text": ""}, {"text": "ok"}, {"wrong": True}]
    resp = api.post("/api/batches", json={"name": "strict", "type": "sha256", "ownerId": owner,
                                          "items": items, "allOrNothing": True})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    messages = " ".join(e["message"] for e in resp.json()["errors"])
    assert "line 2" in messages and "line 4" in messages
    assert api.get("/api/batches", params={"ownerId": owner}).json()["items"] == []


def test_a_csv_file_all_or_nothing_with_a_bad_row_ends_cancelled_with_it_listed(api, owner):
    rows = "text\n" + "".join(f"row {i}\n" for i in range(20)) + 'two,columns\n'
    key = upload(api, rows.encode(), owner=owner, filename="rows.csv", content_type="text/csv")
    resp = api.post("/api/batches", json={"name": "csv", "type": "sha256", "ownerId": owner,
                                          "object": key, "allOrNothing": True})
    assert resp.status_code == 202, resp.text
    done = wait_ended(api, resp.json()["id"], timeout=120)
    assert done["status"] == "CANCELLED" and done["ingested"] == 0
    assert done["invalid"]["count"] == 1 and done["invalid"]["items"][0]["line"] == 22


def test_a_csv_file_becomes_one_job_per_row_in_order(api, owner):
    rows = "text\n" + "".join(f"\"row, {i}\"\n" for i in range(25))
    key = upload(api, rows.encode(), owner=owner, filename="rows.csv", content_type="text/csv")
    resp = api.post("/api/batches", json={"name": "csv", "type": "sha256", "ownerId": owner,
                                          "object": key})
    done = wait_ended(api, resp.json()["id"], timeout=120)
    assert done["status"] == "COMPLETED" and done["total"] == 25
    lines = results(api, done["id"])
    digest = hashlib.sha256(b"row, 24").hexdigest()
    assert lines[24]["index"] == 24 and digest in json.dumps(lines[24]["result"])


def test_cancel_stops_the_batch_and_counts_every_child_once(api, owner):
    items = [{"durationSeconds": 0.2} for _ in range(300)]
    resp = api.post("/api/batches", json={"name": "cancel me", "type": "simulate",
                                          "ownerId": owner, "items": items})
    batch_id = resp.json()["id"]
    wait_for(lambda: api.get(f"/api/batches/{batch_id}").json()["counts"]["COMPLETED"] > 0,
             timeout=120, what="the batch to start")
    cancelled = api.post(f"/api/batches/{batch_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert api.post(f"/api/batches/{batch_id}/cancel").status_code == 409
    done = wait_ended(api, batch_id)
    counts = done["counts"]
    assert counts["QUEUED"] == counts["PROCESSING"] == counts["FAILED"] == 0
    assert counts["COMPLETED"] + counts["CANCELLED"] == done["ingested"] == 300
    # The window (100 here) kept the rest unsent: they never ran.
    assert counts["CANCELLED"] >= 150
    statuses = [line["status"] for line in results(api, batch_id)]
    assert statuses.count("CANCELLED") == counts["CANCELLED"]


def test_bad_requests_are_4xx_problems(api, owner):
    other_key = f"uploads/someone-else/{uuid.uuid4().hex}/x.jsonl"
    cases = [
        ({"name": "x", "type": "sha256", "ownerId": owner}, 422),  # neither items nor object
        ({"name": "x", "type": "nope", "ownerId": owner, "items": [{}]}, 422),
        ({"name": "x", "type": "sha256", "ownerId": owner, "object": other_key}, 422),
        ({"name": "x", "type": "sha256", "ownerId": owner, "items": [{"text": "a"}],
          "webhookUrl": "ftp://example.com/x"}, 422),
    ]
    for body, status in cases:
        resp = api.post("/api/batches", json=body)
        assert resp.status_code == status, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    missing = str(uuid.uuid4())
    assert api.get(f"/api/batches/{missing}").status_code == 404
    assert api.post(f"/api/batches/{missing}/cancel").status_code == 404
    assert api.get(f"/api/batches/{missing}/results").status_code == 404
    assert api.get("/api/batches/not-a-uuid").status_code == 422
