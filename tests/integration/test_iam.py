"""The IAM policies in deploy/iam/ allow every AWS request the code makes, per role.

Each process runs with its own access key id (bootstrap, api, worker, flower), and
both moto servers record every request they receive (moto's recorder: headers and
body), kombu's asynchronous SQS client included. The test drives the flows users and
operators do (submit single and batch, get, list, cancel, queues, cost, a retried
and failed job, a dead-lettered job and its redrive, Flower), then maps each recorded
request to its IAM action and resource ARN and checks it against that role's policy
file. A request the policy would refuse on AWS fails the test with its role, action
and resource: add the action to deploy/iam/<role>.json (see README).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from core.devstack import MOTO_SERVER, ROOT, Stack, wait_for
from tests.conftest import TERMINAL

POLICY_DIR = ROOT / "deploy" / "iam"
ROLES = ("bootstrap", "api", "worker", "flower")
KEY_IDS = {f"AKIDBATCHLAB{role.upper()}": role for role in ROLES}
ROLE_KEY = {role: key for key, role in KEY_IDS.items()}
ENV = {
    "BATCHLAB_VISIBILITY_TIMEOUT": "10",
    "BATCHLAB_MAX_RECEIVE_COUNT": "2",  # the last receive's fresh message is recorded too
    # A dead pool child's job is taken over a lease later: short, so the crash flow (3
    # attempts, twice: before and after its redrive) fits its waits on a loaded machine.
    "BATCHLAB_LEASE_SECONDS": "3",
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
    "BATCHLAB_DLQ_RECONCILE_SECONDS": "1",
    "BATCHLAB_SIMULATE_CRASH_ENABLED": "true",
    "BATCHLAB_METER_FLUSH_SECONDS": "0.5",
    "BATCHLAB_STATS_CACHE_SECONDS": "0",
    "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "1",  # the exit paths are recorded too; quickly
    "BATCHLAB_EVENTS_NODE": f"iam{uuid.uuid4().hex[:6]}",
    "BATCHLAB_FLOWER_USER": "iam",
    "BATCHLAB_FLOWER_PASSWORD": "iam-test-password",
    # Uploads over 1 KiB are multipart (here: one part, which S3 allows under 5 MiB), so
    # the flows make the multipart calls without recording megabytes of parts.
    "BATCHLAB_UPLOAD_MULTIPART_THRESHOLD_BYTES": "1024",
    "BATCHLAB_BATCH_SWEEP_SECONDS": "2",
}
FLOWER_AUTH = ("iam", "iam-test-password")
# Batch APIs are authorised by their single-message action (AWS service authorization
# reference: SQS *Batch, SNS PublishBatch).
_IAM_ACTION = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
}


@dataclass(frozen=True)
class Call:
    role: str
    action: str  # e.g. "dynamodb:PutItem"
    resource: str  # an ARN, or "*" for account-wide calls (ListTables, ListQueues)


# --- from a recorded HTTP request to (role, IAM action, resource) ------------------


def _header(entry: dict, name: str) -> str | None:
    return next((v for k, v in entry["headers"].items() if k.lower() == name.lower()), None)


def _body(entry: dict) -> str:
    body = entry.get("body") or ""
    return base64.b64decode(body).decode() if entry.get("body_encoded") else body


def _arn(service: str, region: str, account: str, name: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{name}"


def parse_call(entry: dict) -> Call | None:
    """The call a recorded request makes, or None for one that is not signed by a
    BatchLab role (the test's own client)."""
    auth = _header(entry, "Authorization") or ""
    query = {k: v[0] for k, v in
             parse_qs(urlparse(entry["url"]).query, keep_blank_values=True).items()}
    if "Credential=" in auth:
        credential = auth.split("Credential=")[1].split(",")[0]
    elif "X-Amz-Credential" in query:  # a presigned URL: it acts with its signer's rights
        credential = query["X-Amz-Credential"]
    else:
        return None
    key_id, _, region, service, _ = credential.split("/")
    role = KEY_IDS.get(key_id)
    if role is None:
        return None
    if service == "s3":
        return Call(role, *_s3_call(entry["method"], urlparse(entry["url"]).path, query))
    account = "123456789012"  # moto's default account
    text = _body(entry)
    target = _header(entry, "X-Amz-Target")
    if target:
        operation = target.rsplit(".", 1)[1]
        params = json.loads(text or "{}")
    else:
        form = {k: v[0] for k, v in parse_qs(text).items()}
        query = {k: v[0] for k, v in parse_qs(urlparse(entry["url"]).query).items()}
        params = {**query, **form}
        operation = params["Action"]
    action = f"{service}:{_IAM_ACTION.get((service, operation), operation)}"
    if operation == "TransactWriteItems":
        # Authorised item by item as the single-item action (DynamoDB developer guide,
        # "Using IAM with DynamoDB transactions"); ours are all Updates (batch roll-ups).
        kinds = {_TRANSACT_ACTION[kind] for entry in params["TransactItems"] for kind in entry}
        assert len(kinds) == 1, f"a transaction mixing {kinds}"
        action = f"dynamodb:{kinds.pop()}"
    return Call(role, action, _resource(service, operation, params, entry, region, account))


# S3's REST calls by method and the bucket subresource in the query, as IAM names them
# (a multipart upload's parts and completion are authorised as s3:PutObject).
_S3_BUCKET_ACTION = {
    ("HEAD", ""): "ListBucket", ("GET", ""): "ListBucket", ("PUT", ""): "CreateBucket",
    ("PUT", "publicAccessBlock"): "PutBucketPublicAccessBlock",
    ("PUT", "lifecycle"): "PutLifecycleConfiguration", ("PUT", "cors"): "PutBucketCORS",
}
_S3_OBJECT_ACTION = {
    "GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "POST": "PutObject",
    "DELETE": "DeleteObject",
}


def _s3_call(method: str, path: str, query: dict) -> tuple[str, str]:
    """(IAM action, resource ARN) of a path-style S3 request."""
    bucket, _, key = path.lstrip("/").partition("/")
    if not key:
        sub = next((k for k in query if not k.lower().startswith("x-amz-")), "")
        return f"s3:{_S3_BUCKET_ACTION[(method, sub)]}", f"arn:aws:s3:::{bucket}"
    action = _S3_OBJECT_ACTION[method]
    if method == "DELETE" and "uploadId" in query:
        action = "AbortMultipartUpload"
    if method == "GET" and "uploadId" in query:
        action = "ListMultipartUploadParts"
    return f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}"


_TRANSACT_ACTION = {"Update": "UpdateItem", "Put": "PutItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem"}


def _resource(service: str, operation: str, params: dict, entry: dict, region: str,
              account: str) -> str:
    if service == "dynamodb":
        tables = (list(params.get("RequestItems", {}))
                  or sorted({r["TableName"] for e in params.get("TransactItems", [])
                             for r in e.values()})
                  or [params.get("TableName")])
        if tables == [None]:
            return "*"  # ListTables
        assert len(tables) == 1, f"{operation} on several tables: {tables}"
        arn = _arn("dynamodb", region, account, f"table/{tables[0]}")
        return f"{arn}/index/{params['IndexName']}" if params.get("IndexName") else arn
    if service == "sqs":
        url = params.get("QueueUrl") or ""
        path = urlparse(url or entry["url"]).path.strip("/")
        name = params.get("QueueName") or (path.rsplit("/", 1)[-1] if "/" in path else None)
        return _arn("sqs", region, account, name) if name else "*"
    if service == "sns":
        if operation == "CreateTopic":
            return _arn("sns", region, account, params["Name"])
        arn = params.get("TopicArn") or params.get("SubscriptionArn")
        if arn is None:
            return "*"
        # A subscription ARN is its topic's ARN plus ":<id>"; IAM checks the topic.
        return arn if arn.count(":") == 5 else arn.rsplit(":", 1)[0]
    raise AssertionError(f"unexpected service {service}")


def recorded_calls(paths: list[Path]) -> set[Call]:
    calls = set()
    for path in paths:
        for line in path.read_text().splitlines():
            call = parse_call(json.loads(line))
            if call is not None:
                calls.add(call)
    return calls


# --- the policy side ---------------------------------------------------------------


def load_policy(role: str) -> list[dict]:
    doc = json.loads((POLICY_DIR / f"{role}.json").read_text())
    assert doc["Version"] == "2012-10-17"
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow", "these policies only allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, statement
    return doc["Statement"]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def allows(statements: list[dict], call: Call) -> bool:
    """IAM's matching for Allow statements: actions case-insensitively, resources
    case-sensitively, ``*`` and ``?`` as wildcards. The region and account are
    wildcards in the files, so the moto account matches like a real one."""
    return any(
        any(fnmatch.fnmatchcase(call.action.lower(), a.lower()) for a in _as_list(s["Action"]))
        and any(fnmatch.fnmatchcase(call.resource, r) for r in _as_list(s["Resource"]))
        for s in statements
    )


def test_allows_matches_like_iam():
    statements = [{"Effect": "Allow", "Action": ["sqs:SendMessage"],
                   "Resource": "arn:aws:sqs:*:*:batchlab-*"}]
    ok = Call("api", "sqs:sendmessage", "arn:aws:sqs:us-east-1:123456789012:batchlab-jobs")
    assert allows(statements, ok)
    assert not allows(statements, Call("api", "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:other"))
    assert not allows(statements, Call("api", "sqs:DeleteMessage", ok.resource))


def test_parse_call_reads_json_and_query_protocols():
    auth = "AWS4-HMAC-SHA256 Credential=AKIDBATCHLABAPI/20260101/us-east-1/{}/aws4_request, X"
    ddb = {"headers": {"Authorization": auth.format("dynamodb"),
                       "X-Amz-Target": "DynamoDB_20120810.Query"},
           "url": "http://h/", "body": json.dumps({"TableName": "Jobs", "IndexName": "I"})}
    assert parse_call(ddb) == Call(
        "api", "dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/Jobs/index/I")
    sns = {"headers": {"Authorization": auth.format("sns")}, "url": "http://h/",
           "body": "Action=PublishBatch&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3Abatchlab-events"}
    assert parse_call(sns) == Call("api", "sns:Publish", "arn:aws:sns:us-east-1:1:batchlab-events")
    sqs = {"headers": {"Authorization": auth.format("sqs")},
           "url": "http://h/123456789012/batchlab-jobs?Action=ReceiveMessage", "body": ""}
    assert parse_call(sqs) == Call(
        "api", "sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:batchlab-jobs")


# --- the flows ---------------------------------------------------------------------


def test_parse_call_reads_s3_rest_calls_and_presigned_urls():
    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBATCHLABBOOTSTRAP/20261129/"
                             "us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"}
    lifecycle = {"method": "PUT", "url": "http://127.0.0.1:1/batchlab-data?lifecycle",
                 "headers": auth}
    assert parse_call(lifecycle) == Call("bootstrap", "s3:PutLifecycleConfiguration",
                                         "arn:aws:s3:::batchlab-data")
    presigned = {"method": "PUT", "headers": {},
                 "url": "http://127.0.0.1:1/batchlab-data/uploads/a/b?X-Amz-Algorithm=x&"
                        "X-Amz-Credential=AKIDBATCHLABAPI%2F20261129%2Fus-east-1%2Fs3%2Faws4_request"}
    assert parse_call(presigned) == Call("api", "s3:PutObject",
                                         "arn:aws:s3:::batchlab-data/uploads/a/b")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Iterator[set[Call]]:
    """Run the representative flows on a stack of their own; yield every call made."""
    logs = tmp_path_factory.mktemp("iam-logs")
    recordings = [logs / "moto-sqs-sns.jsonl", logs / "moto-dynamodb.jsonl"]
    stack = Stack(logs, extra_env={**ENV, "AWS_ACCESS_KEY_ID": ROLE_KEY["bootstrap"]})
    try:
        for port, path in zip((stack.sqs_port, stack.dynamodb_port), recordings, strict=True):
            stack.spawn("moto", [*MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
                        {"MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(path)})
        stack.bootstrap("--wait")
        stack.bootstrap()  # a second run finds everything in place: its own calls
        stack.bootstrap("--check")
        _, url = stack.start_api({"AWS_ACCESS_KEY_ID": ROLE_KEY["api"]})
        stack.start_worker({"AWS_ACCESS_KEY_ID": ROLE_KEY["worker"]})
        _, flower_url = stack.start_flower({"AWS_ACCESS_KEY_ID": ROLE_KEY["flower"]})
        with httpx.Client(base_url=url, timeout=30) as http:
            run_flows(http, flower_url)
        for service in reversed(stack.services[2:]):  # API, worker, Flower: their exit paths too
            service.stop(timeout=30)
        yield recorded_calls(recordings)
    finally:
        stack.stop_all()


def _job(http: httpx.Client, type_: str, payload: dict) -> str:
    body = {"name": f"iam {type_}", "type": type_, "payload": payload, "ownerId": "iam"}
    resp = http.post("/api/jobs", json=body)
    assert resp.status_code == 202, resp.text
    return resp.json()["id"]


def _terminal(http: httpx.Client, job_id: str, *, timeout: float = 240) -> dict:
    return wait_for(
        lambda: (j := http.get(f"/api/jobs/{job_id}").json())["status"] in TERMINAL and j,
        timeout=timeout, what=f"job {job_id} to finish", every=0.2,
    )


def _upload(http: httpx.Client, data: bytes) -> str:
    """Upload through the API's presigned URL(s) (signed by the API role); the key."""
    ask = {"filename": "iam.csv", "contentType": "text/csv", "size": len(data), "ownerId": "iam"}
    plan = http.post("/api/uploads", json=ask).json()
    if plan["kind"] == "single":
        assert httpx.put(plan["url"], content=data, headers=plan["headers"]).status_code == 200
        return plan["key"]
    parts = []
    for part in plan["parts"]:
        start = (part["partNumber"] - 1) * plan["partSize"]
        resp = httpx.put(part["url"], content=data[start:start + part["size"]], timeout=60)
        parts.append({"partNumber": part["partNumber"], "etag": resp.headers["ETag"]})
    done = http.post(plan["completeUrl"], json={"key": plan["key"], "parts": parts})
    assert done.status_code == 200, done.text
    return plan["key"]


def run_flows(http: httpx.Client, flower_url: str) -> None:
    ok = _job(http, "sha256", {"text": "iam"})
    # Uploads: one single PUT, one multipart, each read by a csv-summary job.
    small = _job(http, "csv-summary", {"object": _upload(http, b"a,b\n1,2\n")})
    big = _job(http, "csv-summary", {"object": _upload(http, b"n\n" + b"12345\n" * 400)})
    batch = http.post("/api/jobs:batch", json={"jobs": [
        {"name": f"b{i}", "type": "text-stats", "payload": {"text": "a b"}, "ownerId": "iam"}
        for i in range(3)
    ]})
    assert batch.status_code == 202 and batch.json()["accepted"] == 3
    replay = {"name": "idem", "type": "sha256", "payload": {"text": "x"}, "ownerId": "iam"}
    for _ in range(2):
        assert http.post("/api/jobs", json=replay, headers={"Idempotency-Key": "k1"}).status_code == 202
    # Issue 13: payloads and results out of line (a data item, then S3), read back
    # through the API, its presigned URL and the payload endpoint.
    data_jobs = [_job(http, "simulate", {"filler": "f" * n, "resultBytes": n})
                 for n in (3_000, 20_000)]
    batches = run_batch_flows(http)
    failing = _job(http, "simulate", {"failureProbability": 1})
    crashing = _job(http, "simulate", {"crash": True})
    assert _terminal(http, ok)["status"] == "COMPLETED"
    for job_id in (small, big):
        assert _terminal(http, job_id)["status"] == "COMPLETED"
    for item in batch.json()["results"]:
        assert _terminal(http, item["job"]["id"])["status"] == "COMPLETED"
    for job_id in data_jobs:
        done = _terminal(http, job_id)
        assert done["status"] == "COMPLETED", done
        assert len(http.get(f"/api/jobs/{job_id}/payload").json()["filler"]) > 1000
        if done["resultUrl"]:
            assert httpx.get(done["resultUrl"], timeout=30).status_code == 200
    failed = _terminal(http, failing)
    assert failed["status"] == "FAILED" and failed["attempts"] == failed["maxAttempts"]
    dead = _terminal(http, crashing)
    assert dead["status"] == "FAILED" and "dead-letter" in dead["error"], dead
    # Issue 15: the DLQ's jobs are listed (received, then shown again) before the redrive.
    wait_for(lambda: crashing in [i["jobId"] for i in http.get("/api/dlq").json()["items"]],
             timeout=30, what="the dead letter to be listed")
    assert crashing in wait_for(
        lambda: http.post("/api/dlq/redrive").json()["jobIds"], timeout=30,
        what="the dead letter to be redriven")
    running = _job(http, "simulate", {"durationSeconds": 20, "steps": 40})
    wait_for(lambda: http.get(f"/api/jobs/{running}").json()["status"] == "PROCESSING",
             timeout=60, what="the long job to start", every=0.2)
    assert http.post(f"/api/jobs/{running}/cancel").json()["status"] == "CANCELLED"
    # Issue 15: retry, re-run, a bulk action (dry run, then executed), the charts.
    assert http.post(f"/api/jobs/{running}/retry").status_code == 202
    assert http.post(f"/api/jobs/{ok}/rerun").status_code == 202
    bulk = {"action": "cancel", "filter": {"ownerId": "iam", "type": "simulate"}}
    count = http.post("/api/jobs/bulk", json=bulk).json()["matched"]
    done = http.post("/api/jobs/bulk", json={**bulk, "dryRun": False, "expectedCount": count})
    assert done.status_code in (200, 409), done.text  # 409: a job moved in between
    assert http.get("/api/charts").status_code == 200
    assert http.get("/api/jobs", params={"ownerId": "iam", "status": "COMPLETED"}).status_code == 200
    assert http.get("/api/queues").status_code == 200
    assert http.get("/readyz").status_code == 200
    assert http.get("/metrics").status_code == 200
    wait_for(lambda: http.get("/api/cost").json()["processes"] >= 3, timeout=30,
             what="the API's and worker's meters")
    assert wait_for(
        lambda: httpx.get(f"{flower_url}/api/tasks", auth=FLOWER_AUTH, timeout=10).json(),
        timeout=60, what="Flower to see tasks")
    workers = httpx.get(f"{flower_url}/api/workers", params={"refresh": "true"},
                        auth=FLOWER_AUTH, timeout=60)
    assert workers.status_code == 200, workers.text
    finish_batch_flows(http, batches)
    _terminal(http, crashing, timeout=240)  # the redriven job crashes and dead-letters again


def _batch(http: httpx.Client, body: dict) -> str:
    resp = http.post("/api/batches", json={"name": "iam", "ownerId": "iam", **body})
    assert resp.status_code == 202, resp.text
    return resp.json()["id"]


def _batch_ended(http: httpx.Client, batch_id: str) -> dict:
    return wait_for(
        lambda: (b := http.get(f"/api/batches/{batch_id}").json())["resultsUrl"] and b,
        timeout=240, what=f"batch {batch_id} to end", every=0.3)


def run_batch_flows(http: httpx.Client) -> dict[str, str]:
    """Issue 14: a file batch (with an invalid line), an inline one with a failure to
    retry, and one cancelled (and one of its children cancelled through the job API)."""
    data = b'{"text": "a"}\n{"text": ""}\n' + b'{"text": "b"}\n' * 12
    upload = _upload(http, data)
    return {
        "file": _batch(http, {"type": "sha256", "object": upload, "format": "jsonl"}),
        "retry": _batch(http, {"type": "simulate", "items": [
            {"failAttempts": 1 if i == 3 else 0} for i in range(12)]}),
    }


def finish_batch_flows(http: httpx.Client, ids: dict[str, str]) -> None:
    done = _batch_ended(http, ids["file"])
    assert done["counts"]["COMPLETED"] == 13 and done["invalid"]["count"] == 1
    assert http.get(f"/api/batches/{ids['file']}/results", follow_redirects=True).status_code == 200
    assert _batch_ended(http, ids["retry"])["counts"]["FAILED"] == 1
    assert http.post(f"/api/batches/{ids['retry']}/retry-failed").status_code == 200
    wait_for(lambda: http.get(f"/api/batches/{ids['retry']}").json()["status"] == "COMPLETED",
             timeout=120, what="the retried batch to end")
    ids["cancel"] = _batch(http, {"type": "simulate", "items": [
        {"durationSeconds": 20, "steps": 40} for _ in range(30)]})
    wait_for(lambda: http.get(f"/api/batches/{ids['cancel']}").json()["ingested"] == 30,
             timeout=120, what="the batch to be read")
    lines = http.get(f"/api/batches/{ids['cancel']}/results").text.splitlines()
    child = json.loads(lines[-1])  # in a group the window has not sent yet: QUEUED
    assert http.post(f"/api/jobs/{child['jobId']}/cancel").status_code == 200
    assert http.post(f"/api/batches/{ids['cancel']}/cancel").status_code == 200
    assert _batch_ended(http, ids["cancel"])["status"] == "CANCELLED"
    assert http.get("/api/batches", params={"ownerId": "iam"}).json()["items"]


def test_every_recorded_call_is_allowed_by_its_roles_policy(recorded):
    denied = sorted(
        f"{c.role}: {c.action} on {c.resource}" for c in recorded
        if not allows(load_policy(c.role), c)
    )
    assert not denied, "not allowed by deploy/iam/<role>.json:\n" + "\n".join(denied)


# Granted although the flows above may not make them happen; each with its reason.
MAY_GO_UNUSED = {
    ("worker", "sns:Unsubscribe"): "kombu's SNS fanout unbinds a queue it stops consuming",
    ("flower", "sns:Unsubscribe"): "kombu's SNS fanout unbinds a queue it stops consuming",
    ("bootstrap", "dynamodb:UpdateTable"): "adds the owner index to an older table",
    ("worker", "sqs:ChangeMessageVisibility"): "lease heartbeats (every third of the visibility "
    "timeout), prefetched messages given back at shutdown, dead letters made visible again",
}


def test_every_role_made_calls_and_no_policy_grants_more_than_is_used(recorded):
    assert {c.role for c in recorded} == set(ROLES)
    seen = {(c.role, c.action.lower()) for c in recorded}
    unused = sorted(
        f"{role}: {action}"
        for role in ROLES
        for statement in load_policy(role)
        for action in _as_list(statement["Action"])
        if (role, action.lower()) not in seen and (role, action) not in MAY_GO_UNUSED
    )
    assert not unused, "granted but never used (remove it, or say why in MAY_GO_UNUSED):\n" + \
        "\n".join(unused)
