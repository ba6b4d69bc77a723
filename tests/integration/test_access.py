"""Who may call what in API-key mode: every endpoint × {no key, bad key, tenant, other
tenant, operator}, against a real uvicorn over moto (README "Access").

"tenant" owns the job a row acts on; "other" is a second tenant and must get 404 for
that job, never its data. Jobs are ``simulate`` jobs long enough to still be running
or queued when cancelled, whether or not a worker of the session is consuming.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from core.devstack import Stack

RUN = uuid.uuid4().hex[:8]
TENANT, OTHER = f"acc-a-{RUN}", f"acc-b-{RUN}"
KEYS = {"tenant": f"key-a-{RUN}", "other": f"key-b-{RUN}", "operator": f"op-{RUN}",
        "bad": "not-a-key"}
CALLERS = ("none", "bad", "tenant", "other", "operator")
SLOW = {"durationSeconds": 30, "steps": 60}


@dataclass
class Api:
    url: str

    def call(self, method: str, path: str, caller: str, **kwargs) -> httpx.Response:
        headers = {"X-API-Key": KEYS[caller]} if caller != "none" else {}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def new_job(self, *, name: str = "secret-name") -> dict:
        resp = self.call("POST", "/api/jobs", "tenant",
                         json={"name": name, "type": "simulate", "payload": SLOW})
        assert resp.status_code == 202, resp.text
        return resp.json()

    def new_batch(self) -> dict:
        resp = self.call("POST", "/api/batches", "tenant",
                         json={"name": "secret-batch", "type": "simulate", "items": [SLOW]})
        assert resp.status_code == 202, resp.text
        return resp.json()


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[Api]:
    env = {
        "BATCHLAB_API_KEYS": json.dumps({KEYS["tenant"]: TENANT, KEYS["other"]: OTHER}),
        "BATCHLAB_ADMIN_KEYS": json.dumps({KEYS["operator"]: "ops-anna"}),
        "BATCHLAB_STATS_CACHE_SECONDS": "0",
    }
    service, url = stack.start_api(env)
    api = Api(url)
    yield api
    # Cancel what this module left running, so no worker spends 30 s on it.
    for item in api.call("GET", "/api/jobs", "tenant", params={"limit": 100}).json()["items"]:
        api.call("POST", f"/api/jobs/{item['id']}/cancel", "operator")
    for item in api.call("GET", "/api/batches", "tenant", params={"limit": 100}).json()["items"]:
        api.call("POST", f"/api/batches/{item['id']}/cancel", "operator")
    service.stop()


ALLOWED_ALL = dict.fromkeys(CALLERS, 200)
JOB_ROUTE = {"none": 401, "bad": 401, "tenant": 200, "other": 404, "operator": 200}
OPERATOR_ROUTE = {"none": 401, "bad": 401, "tenant": 403, "other": 403, "operator": 200}
SUBMIT = {"none": 401, "bad": 401, "tenant": 202, "other": 202, "operator": 202}

# (method, path, body, expected per caller). {job} is a fresh job of "tenant" per call.
# The operator names the owner it submits or lists for (as in open mode).
MATRIX = [
    ("POST", "/api/jobs", {"name": "n", "type": "sha256", "payload": {"text": "x"},
                           "ownerId": "$self"}, SUBMIT),
    ("POST", "/api/jobs:batch", {"jobs": [{"name": "n", "type": "sha256", "payload": {"text": "x"},
                                           "ownerId": "$self"}]}, SUBMIT),
    ("GET", "/api/jobs?ownerId=$self", None, {**JOB_ROUTE, "other": 200}),
    ("GET", "/api/jobs/{job}", None, JOB_ROUTE),
    ("POST", "/api/jobs/{job}/cancel", None, JOB_ROUTE),
    ("POST", "/api/uploads", {"filename": "a.csv", "contentType": "text/csv", "size": 10,
                              "ownerId": "$self"}, {**SUBMIT, "tenant": 201, "other": 201,
                                                    "operator": 201}),
    ("POST", "/api/batches", {"name": "n", "type": "sha256", "items": [{"text": "x"}],
                              "ownerId": "$self"}, SUBMIT),
    ("GET", "/api/batches?ownerId=$self", None, {**JOB_ROUTE, "other": 200}),
    ("GET", "/api/batches/{batch}", None, JOB_ROUTE),
    ("GET", "/api/batches/{batch}/results", None, JOB_ROUTE),
    ("POST", "/api/batches/{batch}/cancel", None, JOB_ROUTE),
    # Nothing FAILED in a fresh batch: 409 for those who may see it, 404 for the other.
    ("POST", "/api/batches/{batch}/retry-failed", None, {**JOB_ROUTE, "tenant": 409, "operator": 409}),
    ("GET", "/api/job-types", None, ALLOWED_ALL),
    ("GET", "/api/queues", None, {**ALLOWED_ALL, "none": 401, "bad": 401}),
    ("POST", "/api/dlq/redrive?maxMessages=1", None, OPERATOR_ROUTE),
    ("GET", "/api/cost", None, OPERATOR_ROUTE),
    ("GET", "/metrics", None, OPERATOR_ROUTE),
    ("GET", "/healthz", None, ALLOWED_ALL),
    ("GET", "/readyz", None, ALLOWED_ALL),
    ("GET", "/openapi.json", None, ALLOWED_ALL),
    ("GET", "/docs", None, ALLOWED_ALL),
]


def _owner_for(caller: str) -> str:
    return {"tenant": TENANT, "other": OTHER}.get(caller, TENANT)


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX,
                         ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
@pytest.mark.parametrize("caller", CALLERS)
def test_every_endpoint_for_every_caller(api, caller, method, path, body, expected):
    if "{job}" in path:
        path = path.replace("{job}", api.new_job()["id"])
    if "{batch}" in path:
        path = path.replace("{batch}", api.new_batch()["id"])
    path = path.replace("$self", _owner_for(caller))
    if body is not None:
        body = json.loads(json.dumps(body).replace("$self", _owner_for(caller)))
    resp = api.call(method, path, caller, json=body)
    assert resp.status_code == expected[caller], resp.text
    if resp.status_code >= 400:
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["status"] == resp.status_code
    if resp.status_code == 401:
        assert resp.headers["www-authenticate"] == "ApiKey"


def test_another_tenants_job_is_not_found_and_never_shown(api):
    job = api.new_job(name=f"private-{RUN}")
    for method, path in (("GET", f"/api/jobs/{job['id']}"), ("POST", f"/api/jobs/{job['id']}/cancel")):
        resp = api.call(method, path, "other")
        assert resp.status_code == 404
        assert f"private-{RUN}" not in resp.text and TENANT not in resp.text
    assert api.call("GET", "/api/jobs", "other", params={"ownerId": TENANT}).status_code == 403
    assert job["id"] not in api.call("GET", "/api/jobs", "other").text
    # ...and the job was not cancelled by the attempt.
    assert api.call("GET", f"/api/jobs/{job['id']}", "tenant").json()["status"] != "CANCELLED"


def test_an_operator_reads_and_cancels_any_job_and_names_the_owner(api):
    job = api.new_job()
    seen = api.call("GET", f"/api/jobs/{job['id']}", "operator").json()
    assert seen["ownerId"] == TENANT
    listed = api.call("GET", "/api/jobs", "operator", params={"ownerId": TENANT}).json()["items"]
    assert job["id"] in [j["id"] for j in listed]
    # An operator has no owner of its own: listing or submitting must name one.
    assert api.call("GET", "/api/jobs", "operator").status_code == 422
    unnamed = api.call("POST", "/api/jobs", "operator",
                       json={"name": "n", "type": "sha256", "payload": {"text": "x"}})
    assert unnamed.status_code == 422
    cancelled = api.call("POST", f"/api/jobs/{job['id']}/cancel", "operator")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"


def test_a_tenant_sees_only_its_own_counts_and_no_queues(api):
    before = api.call("GET", "/api/queues", "other").json()
    mine = [api.new_job()["id"] for _ in range(3)]
    api.call("POST", f"/api/jobs/{mine[0]}/cancel", "tenant")
    own = api.call("GET", "/api/queues", "tenant").json()
    listed = api.call("GET", "/api/jobs", "tenant", params={"limit": 100}).json()["items"]
    assert own["scope"] == "owner" and own["ownerId"] == TENANT
    assert own["queues"] == [] and own["flowerUrl"] is None
    assert own["jobsCounted"] == sum(own["jobsByStatus"].values()) == len(listed)
    assert own["jobsByStatus"]["CANCELLED"] >= 1
    # The other tenant's view did not move with this tenant's jobs.
    after = api.call("GET", "/api/queues", "other").json()
    assert after["jobsCounted"] == before["jobsCounted"]
    everything = api.call("GET", "/api/queues", "operator").json()
    assert everything["scope"] == "all" and {q["role"] for q in everything["queues"]} == {"jobs", "dlq"}
    assert everything["jobsCounted"] >= own["jobsCounted"] + after["jobsCounted"]
    assert everything["flowerUrl"]


def test_the_openapi_document_says_which_key_each_operation_needs(api):
    doc = api.call("GET", "/openapi.json", "none").json()
    schemes = doc["components"]["securitySchemes"]
    assert {s["name"] for s in schemes.values()} == {"X-API-Key"}
    assert {s["in"] for s in schemes.values()} == {"header"}
    security = {(m.upper(), p): op.get("security") for p, ops in doc["paths"].items()
                for m, op in ops.items()}
    for key, needs in security.items():
        if key in {("POST", "/api/dlq/redrive"), ("GET", "/api/cost")}:
            assert needs == [{"OperatorKey": []}], key
            assert "Operator only" in doc["paths"][key[1]][key[0].lower()]["description"]
        elif key[1].startswith("/api/") and key[1] != "/api/job-types":
            assert needs == [{"ApiKey": []}], key
        else:
            assert needs is None, key


def _dynamodb_reads(api: Api) -> dict[str, float]:
    """The API process's DynamoDB read requests so far, by operation (from /metrics)."""
    counts: dict[str, float] = {}
    for line in api.call("GET", "/metrics", "operator").text.splitlines():
        if line.startswith('batchlab_aws_requests_total{') and 'service="dynamodb"' in line:
            operation = line.split('operation="')[1].split('"')[0]
            if operation in ("Query", "Scan", "BatchGetItem", "GetItem"):
                counts[operation] = counts.get(operation, 0) + float(line.rsplit(" ", 1)[1])
    return counts


def test_a_tenants_counts_cost_one_query_and_one_batch_get_per_100_jobs_never_a_scan(api):
    api.new_job()  # at least one job, so that there is something to read
    before = _dynamodb_reads(api)
    own = api.call("GET", "/api/queues", "tenant").json()
    after = _dynamodb_reads(api)
    delta = {op: after.get(op, 0) - before.get(op, 0) for op in after}
    batches = -(-own["jobsCounted"] // 100)
    assert delta == {**dict.fromkeys(delta, 0), "Query": 1, "BatchGetItem": batches}, delta
