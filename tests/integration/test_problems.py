"""Bad input gets a 4xx application/problem+json, never a 500 and never a job."""

from __future__ import annotations

import http.client
import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

GOOD = {"name": "n", "type": "sha256", "payload": {"text": "x"}, "ownerId": "problem-owner"}


def assert_problem(resp, status: int, *, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def no_jobs_written(live) -> bool:
    return live.http.get("/api/jobs", params={"ownerId": "problem-owner"}).json()["items"] == []


def test_malformed_json_is_400(live):
    resp = live.http.post("/api/jobs", content=b'{"name": ', headers={"content-type": "application/json"})
    body = assert_problem(resp, 400)
    assert "not valid JSON" in body["detail"]


def test_non_json_body_is_415(live):
    resp = live.http.post("/api/jobs", content=b"name=x", headers={"content-type": "text/plain"})
    assert_problem(resp, 415)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"type": 5}, "type"),
        ({"payload": "text"}, "payload"),
        ({"payload": {"text": ""}}, "payload.text"),
        ({"payload": {"text": "x", "more": 1}}, "payload.more"),
        ({"ownerId": "has space"}, "ownerId"),
        ({"ownerId": None}, "ownerId"),
        ({"type": "no-such-type"}, "type"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_wrong_or_missing_fields_are_422_with_the_field(live, change, field):
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert_problem(live.http.post("/api/jobs", json=body), 422, field=field)
    assert no_jobs_written(live)


def test_simulate_knobs_out_of_range_are_422(live):
    body = {**GOOD, "type": "simulate", "payload": {"durationSeconds": 901, "failureProbability": -1}}
    problem = assert_problem(live.http.post("/api/jobs", json=body), 422)
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"payload.durationSeconds", "payload.failureProbability"}


def test_oversized_body_is_413(live):
    body = {**GOOD, "payload": {"text": "x" * 70_000}}
    assert_problem(live.http.post("/api/jobs", json=body), 413)
    assert no_jobs_written(live)


def test_oversized_chunked_body_is_413(live):
    def chunks():
        yield b'{"name": "n", "type": "sha256", "ownerId": "problem-owner", "payload": {"text": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}}'

    resp = live.http.post("/api/jobs", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(resp, 413)


def test_malformed_id_is_422_and_unknown_id_is_404(live):
    assert_problem(live.http.get("/api/jobs/not-a-uuid"), 422, field="job_id")
    body = assert_problem(live.http.get(f"/api/jobs/{uuid.uuid4()}"), 404)
    assert body["type"].endswith("job-not-found")
    assert_problem(live.http.post(f"/api/jobs/{uuid.uuid4()}/cancel"), 404)


def test_unknown_route_and_method_are_problems(live):
    assert_problem(live.http.get("/api/nothing-here"), 404)
    assert_problem(live.http.delete("/api/jobs"), 405)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "ownerId"),
        ({"ownerId": "a", "limit": 0}, "limit"),
        ({"ownerId": "a", "limit": 101}, "limit"),
        ({"ownerId": "a", "status": "DONE"}, "status"),
        ({"ownerId": "a", "cursor": "!!!"}, "cursor"),
        ({"ownerId": "a", "cursor": "eyJhIjoxfQ"}, "cursor"),
    ],
)
def test_bad_list_parameters_are_422(live, params, field):
    assert_problem(live.http.get("/api/jobs", params=params), 422, field=field)


def test_a_cursor_cannot_read_another_owners_listing(live):
    owner = f"cursor-{uuid.uuid4().hex[:6]}"
    for i in range(3):
        live.submit("sha256", {"text": str(i)}, owner=owner)
    cursor = live.http.get("/api/jobs", params={"ownerId": owner, "limit": 1}).json()["nextCursor"]
    assert cursor
    assert_problem(live.http.get("/api/jobs", params={"ownerId": "other", "cursor": cursor}), 422,
                   field="cursor")


def _post_urllib(url: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def _post_http_client(url: str, body: bytes, content_type: str, *, chunked: bool = False):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        if chunked:
            pieces = (body[i:i + 65536] for i in range(0, len(body), 65536))
            conn.request("POST", parts.path, body=pieces, encode_chunked=True,
                         headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        else:
            conn.request("POST", parts.path, body=body, headers={"Content-Type": content_type})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def _post_curl(url: str, body: bytes) -> tuple[int, str, bytes]:
    """curl sends "Expect: 100-continue" above 1 MB (and waits for it up to 1 s)."""
    result = subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code} %{content_type}", "-X", "POST",
         "-H", "Content-Type: application/json", "--data-binary", "@-", url],
        input=body, capture_output=True, timeout=60, check=True,
    )
    payload, _, status_line = result.stdout.rpartition(b"\n")
    status, content_type = status_line.decode().split(" ", 1)
    return int(status), content_type, payload


@pytest.mark.parametrize("megabytes", [2, 10])
def test_common_clients_read_the_413_of_a_large_body(live, megabytes):
    """Issue 12 item 10: the 413 used to be sent before the body was read, so the
    client got a reset or broken pipe (10 MB: every time) instead of the problem."""
    body = b'{"name": "n", "type": "sha256", "payload": {"text": "' + b"z" * (megabytes << 20) + b'"}}'
    url = f"{live.api_url}/api/jobs"
    outcomes = []
    for _ in range(3):
        outcomes.append(_post_urllib(url, body, "application/json"))
        outcomes.append(_post_http_client(url, body, "application/json"))
        outcomes.append(_post_http_client(url, body, "application/json", chunked=True))
        outcomes.append(_post_urllib(f"{url}:batch", body, "application/json"))
    outcomes.append(_post_curl(url, body))
    outcomes.append(_post_urllib(url, body, "text/plain"))
    for status, content_type, payload in outcomes[:-1]:
        assert (status, content_type) == (413, "application/problem+json"), payload[:200]
        assert json.loads(payload)["status"] == 413
    status, content_type, _ = outcomes[-1]
    assert (status, content_type) == (415, "application/problem+json")
