"""Uploads through presigned S3 URLs and csv-summary jobs that stream them (issue 13).

Real processes: moto (S3 on the first server), uvicorn, a celery worker; the file goes
from this test straight to S3 with the URL the API signed, as a browser's would.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from core.devstack import Stack
from tests.conftest import Live

MiB = 1024 * 1024
RUN = uuid.uuid4().hex[:8]
TENANT, OTHER = f"up-a-{RUN}", f"up-b-{RUN}"
KEYS = {"tenant": f"up-key-a-{RUN}", "other": f"up-key-b-{RUN}", "operator": f"up-op-{RUN}"}


def make_csv(*, rows: int, seed: int = 13) -> tuple[bytes, dict]:
    """A CSV of ``rows`` rows and the summary csv-summary must give for it."""
    rnd = random.Random(seed)
    cities = [f"city-{i}" for i in range(50)]
    lines = ["id,city,temp,note"]
    temps = []
    for i in range(rows):
        temp = round(rnd.uniform(-30, 45), 2)
        temps.append(temp)
        lines.append(f"{i},{cities[i % 50]},{temp},\"quoted, {i % 7}\"")
    data = ("\n".join(lines) + "\n").encode()
    expected = {
        "rows": rows,
        "columns": [
            {"name": "id", "count": rows, "kind": "number", "min": 0.0, "max": float(rows - 1),
             "mean": round((rows - 1) / 2, 6)},
            {"name": "city", "count": rows, "kind": "text", "distinct": 50},
            {"name": "temp", "count": rows, "kind": "number", "min": min(temps), "max": max(temps),
             "mean": pytest.approx(sum(temps) / rows, abs=1e-5)},
            {"name": "note", "count": rows, "kind": "text", "distinct": 7},
        ],
    }
    return data, expected


def put(url: str, data: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    resp = httpx.put(url, content=data, headers=headers or {}, timeout=120)
    assert resp.status_code == 200, resp.text
    return resp


def upload(http: httpx.Client, data: bytes, *, owner: str | None = None,
           headers: dict[str, str] | None = None) -> dict:
    """Upload ``data`` the way a client does: ask, PUT (each part), complete."""
    body = {"filename": "data.csv", "contentType": "text/csv", "size": len(data)}
    if owner:
        body["ownerId"] = owner
    plan = http.post("/api/uploads", json=body, headers=headers)
    assert plan.status_code == 201, plan.text
    plan = plan.json()
    if plan["kind"] == "single":
        put(plan["url"], data, plan["headers"])
        return plan
    etags = []
    for part in plan["parts"]:
        start = (part["partNumber"] - 1) * plan["partSize"]
        resp = put(part["url"], data[start:start + part["size"]])
        etags.append({"partNumber": part["partNumber"], "etag": resp.headers["ETag"]})
    done = http.post(plan["completeUrl"], json={"key": plan["key"], "parts": etags},
                     headers=headers)
    assert done.status_code == 200, done.text
    assert done.json() == {"key": plan["key"], "size": len(data)}
    return plan


def test_a_10_mb_csv_job_completes_through_s3(live: Live, owner: str):
    data, expected = make_csv(rows=320_000)
    assert len(data) >= 10 * 1_000_000
    plan = upload(live.http, data, owner=owner)
    assert plan["kind"] == "single" and plan["key"].startswith(f"uploads/{owner}/")
    assert plan["key"].endswith("/data.csv")
    job = live.submit("csv-summary", {"object": plan["key"]}, owner=owner)
    assert job["payload"] == {"object": plan["key"]}
    done = live.wait_terminal(job["id"], timeout=180)
    assert done["status"] == "COMPLETED", done
    assert done["result"] == expected


def test_inline_csv_still_works(live: Live, owner: str):
    job = live.submit("csv-summary", {"csv": "a,b\n1,x\n3,y\n"}, owner=owner)
    done = live.wait_terminal(job["id"])
    assert done["status"] == "COMPLETED", done
    assert done["result"]["rows"] == 2 and done["result"]["columns"][0]["mean"] == 2.0


@dataclass
class KeyedApi:
    http: httpx.Client

    def headers(self, caller: str) -> dict[str, str]:
        return {"X-API-Key": KEYS[caller]} if caller in KEYS else {}


@pytest.fixture(scope="module")
def keyed(live: Live, stack: Stack) -> Iterator[KeyedApi]:
    """An API in API-key mode with small limits: multipart above 5 MiB, at most 8 MiB."""
    env = {
        "BATCHLAB_API_KEYS": json.dumps({KEYS["tenant"]: TENANT, KEYS["other"]: OTHER}),
        "BATCHLAB_ADMIN_KEYS": json.dumps({KEYS["operator"]: "ops-up"}),
        "BATCHLAB_UPLOAD_MULTIPART_THRESHOLD_BYTES": str(5 * MiB),
        "BATCHLAB_UPLOAD_PART_BYTES": str(5 * MiB),
        "BATCHLAB_UPLOAD_MAX_BYTES": str(8 * MiB),
    }
    service, url = stack.start_api(env)
    with httpx.Client(base_url=url, timeout=60) as http:
        yield KeyedApi(http)
    service.stop()


def _submit(keyed: KeyedApi, caller: str, payload: dict, **extra) -> httpx.Response:
    body = {"name": "csv", "type": "csv-summary", "payload": payload, **extra}
    return keyed.http.post("/api/jobs", json=body, headers=keyed.headers(caller))


def test_a_multipart_upload_runs_as_a_job(keyed: KeyedApi, live: Live):
    data, expected = make_csv(rows=200_000, seed=7)
    assert 5 * MiB < len(data) <= 8 * MiB
    plan = upload(keyed.http, data, headers=keyed.headers("tenant"))
    assert plan["kind"] == "multipart" and len(plan["parts"]) == 2
    assert [p["size"] for p in plan["parts"]] == [5 * MiB, len(data) - 5 * MiB]
    resp = _submit(keyed, "tenant", {"object": plan["key"]})
    assert resp.status_code == 202, resp.text
    done = live.wait_terminal(resp.json()["id"], timeout=180)
    assert done["status"] == "COMPLETED", done
    assert done["result"] == expected


def _problem(resp: httpx.Response, status: int, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def test_bad_uploads_are_4xx_problems(keyed: KeyedApi):
    ask = {"filename": "a.csv", "contentType": "text/csv", "size": 100}
    tenant = keyed.headers("tenant")
    post = keyed.http.post
    assert "8388608" in _problem(post("/api/uploads", json={**ask, "size": 8 * MiB + 1},
                                      headers=tenant), 413, "size")["detail"]
    _problem(post("/api/uploads", json={**ask, "contentType": "image/png"}, headers=tenant),
             422, "contentType")
    _problem(post("/api/uploads", json={**ask, "size": 0}, headers=tenant), 422, "size")
    _problem(post("/api/uploads", json=ask), 401)
    _problem(post("/api/uploads", json={**ask, "ownerId": OTHER}, headers=tenant), 403)
    _problem(post("/api/uploads", json=ask, headers=keyed.headers("operator")), 422, "ownerId")
    own = post("/api/uploads", json={**ask, "ownerId": TENANT}, headers=keyed.headers("operator"))
    assert own.status_code == 201 and own.json()["key"].startswith(f"uploads/{TENANT}/")
    # A filename is a hint only: no path, no odd characters in the key.
    odd = post("/api/uploads", json={**ask, "filename": "../../x y/é.csv"}, headers=tenant).json()
    assert odd["key"].startswith(f"uploads/{TENANT}/") and ".." not in odd["key"]
    assert odd["key"].rsplit("/", 1)[1] == "_.csv"


def test_a_job_may_reference_only_an_existing_upload_of_its_owner(keyed: KeyedApi):
    data = b"a,b\n1,2\n"
    plan = upload(keyed.http, data, headers=keyed.headers("tenant"))
    # Another tenant's key: refused, naming the field (the key is not a secret, but
    # the other tenant's file must not be read by this one's job).
    body = _problem(_submit(keyed, "other", {"object": plan["key"]}), 422, "payload.object")
    assert "not one of your uploads" in json.dumps(body)
    missing = f"uploads/{TENANT}/{uuid.uuid4().hex}/never.csv"
    body = _problem(_submit(keyed, "tenant", {"object": missing}), 422, "payload.object")
    assert "no uploaded object" in json.dumps(body)
    _problem(_submit(keyed, "tenant", {"object": "jobs/x/payload.json"}), 422, "payload.object")
    _problem(_submit(keyed, "tenant", {"csv": "a\n1\n", "object": plan["key"]}), 422)
    _problem(_submit(keyed, "tenant", {}), 422)
    # The same through a batch: each job on its own.
    batch = keyed.http.post("/api/jobs:batch", headers=keyed.headers("tenant"), json={"jobs": [
        {"name": "ok", "type": "csv-summary", "payload": {"object": plan["key"]}},
        {"name": "missing", "type": "csv-summary", "payload": {"object": missing}},
    ]})
    assert batch.status_code == 202, batch.text
    assert [r["status"] for r in batch.json()["results"]] == [202, 422]
    # The operator submits for the owner whose upload it is.
    resp = _submit(keyed, "operator", {"object": plan["key"]}, ownerId=TENANT)
    assert resp.status_code == 202, resp.text


def test_completing_bad_parts_or_anothers_upload(keyed: KeyedApi):
    data = b"x" * (5 * MiB + 10)
    ask = {"filename": "big.csv", "contentType": "text/csv", "size": len(data)}
    plan = keyed.http.post("/api/uploads", json=ask, headers=keyed.headers("tenant")).json()
    assert plan["kind"] == "multipart"
    first = put(plan["parts"][0]["url"], data[:5 * MiB])
    parts = [{"partNumber": 1, "etag": first.headers["ETag"]},
             {"partNumber": 2, "etag": '"0123456789abcdef0123456789abcdef"'}]
    done = {"key": plan["key"], "parts": parts}
    _problem(keyed.http.post(plan["completeUrl"], json=done, headers=keyed.headers("other")), 404)
    _problem(keyed.http.post(plan["completeUrl"], json=done, headers=keyed.headers("tenant")),
             422, "parts")
    _problem(keyed.http.post("/api/uploads/nosuchupload/complete", json=done,
                             headers=keyed.headers("tenant")), 404)
    _problem(keyed.http.post(plan["completeUrl"], json={"key": "jobs/x", "parts": parts},
                             headers=keyed.headers("tenant")), 422, "key")
