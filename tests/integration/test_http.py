"""HTTP hygiene against the real uvicorn: hostile paths, the API's path space, and
RFC 9110 methods (HEAD, OPTIONS, 405 with a complete Allow). Issue 12, items 6-8."""

from __future__ import annotations

import http.client
import random
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Live

PROBLEM = "application/problem+json"


def raw_request(url: str, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent byte for byte (httpx would normalise it)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def hostile_paths() -> Iterator[str]:
    """A few hundred paths no file can have, in and out of the API's space."""
    pieces = ["%00", "%01", "%0a", "%0d", "%1f", "%7f", "%ff", "%fe%ff", "%c0%ae", "%c0%af",
              "%e2%82", "%ed%a0%80", "%f4%90%80%80", "%2e", "%2e%2e", "..", "%2e%2e%2f",
              "%2f", "%5c", "..%5c..%5c", "%25", "%u0000", "a" * 256, "b" * 4096,
              "%e2%82%ac" * 100, "x/" * 600, "%00.js", "index.html%00", "..%2findex.html"]
    prefixes = ["/", "/api/", "/api", "/jobs/", "/assets/", "/docs/", "/%2e%2e/", "/new/"]
    for prefix in prefixes:
        for piece in pieces:
            yield prefix + piece
            yield prefix + piece + "/tail"
    rng = random.Random(12)
    for _ in range(100):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        yield "/" + urllib.parse.quote(raw, safe="/.")


def api_log(live: Live) -> str:
    return next(s for s in live.stack.services if s.name.startswith("api")).log()


def test_hostile_paths_never_reach_a_5xx(live: Live):
    log_before = len(api_log(live))
    seen = 0
    for i, path in enumerate(hostile_paths()):
        for method in ("GET", "HEAD", ("OPTIONS", "POST", "DELETE")[i % 3]):
            status, headers, body = raw_request(live.api_url, method, path)
            seen += 1
            assert status < 500, (method, path, status, body[:300])
            if status >= 400 and method != "HEAD":
                assert headers["content-type"] == PROBLEM, (path, status, body[:300])
    assert seen > 600
    assert "Traceback" not in api_log(live)[log_before:]
    status, headers, _ = raw_request(live.api_url, "GET", "/%00")
    assert (status, headers["content-type"]) == (404, PROBLEM)


@pytest.mark.parametrize(
    "path",
    ["/api", "/api/", "/api/unknown", "/api/jobs/x/y", "/api/jobs:nothing", "/docs/x",
     "/metrics/x", "/healthz/x", "/readyz/x", "/openapi.json/x", "/redoc/x"],
)
def test_the_apis_paths_are_never_the_web_app(live: Live, path):
    resp = live.http.get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 404, resp.text[:200]
    assert resp.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("path", ["/", "/jobs", "/jobs/abc", "/apifoo", "/docsXYZ", "/metricsfoo",
                                  "/healthzz", "/queues"])
def test_client_routes_beside_the_api_are_the_web_apps(live: Live, path):
    resp = live.http.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")


def test_a_missing_file_of_the_build_is_404_not_index_html(live: Live):
    resp = live.http.get("/missing-chunk.js")
    assert (resp.status_code, resp.headers["content-type"]) == (404, PROBLEM)


def operations(live: Live) -> dict[str, set[str]]:
    """Path template -> methods, from the API's own OpenAPI document."""
    doc = live.http.get("/openapi.json").json()
    return {path: {m.upper() for m in item} for path, item in doc["paths"].items()}


def concrete(path: str, job_id: str) -> str:
    return path.replace("{job_id}", job_id)


def test_head_answers_wherever_get_does_with_the_same_headers(live: Live, owner):
    job_id = live.submit("sha256", {"text": "head"}, owner=owner)["id"]
    live.wait_terminal(job_id)  # so the job and its listing stay the same between GET and HEAD
    paths = [concrete(p, job_id) for p, m in operations(live).items() if "GET" in m]
    paths += ["/", "/jobs/abc", "/favicon.ico", "/docs", "/openapi.json", "/metrics",
              f"/api/jobs?ownerId={owner}", "/api/nothing", f"/api/jobs/{job_id}/cancel"]
    for path in paths:
        get = live.http.get(path)
        head = live.http.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        for name in ("content-type", "allow"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)
        if get.status_code == 200 and path not in ("/metrics", "/api/queues", "/api/cost"):
            assert head.headers.get("content-length") == get.headers.get("content-length"), path


def allow(resp: httpx.Response) -> set[str]:
    return {m.strip() for m in resp.headers["allow"].split(",")}


def test_options_and_405_list_every_method_of_the_path(live: Live):
    job_id = "6f1d6c8e-2b8a-4c7e-9a51-3f0b7d2e9c44"
    for template, methods in operations(live).items():
        path = concrete(template, job_id)
        expected = methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        resp = live.http.options(path)
        assert resp.status_code == 204, (path, resp.text)
        assert allow(resp) == expected, path
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - expected:
            resp = live.http.request(method, path)
            assert resp.status_code == 405, (method, path, resp.status_code)
            assert resp.headers["content-type"] == PROBLEM
            assert allow(resp) == expected, (method, path)
    # The cases of the issue: GET on a POST-only route, HEAD and OPTIONS beside it.
    resp = live.http.get(f"/api/jobs/{job_id}/cancel")
    assert resp.status_code == 405 and allow(resp) == {"POST", "OPTIONS"}
    assert allow(live.http.options("/api/jobs")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert allow(live.http.options("/jobs/abc")) == {"GET", "HEAD", "OPTIONS"}
    resp = live.http.post("/jobs/abc", json={})
    assert resp.status_code == 405 and allow(resp) == {"GET", "HEAD", "OPTIONS"}
    assert live.http.options("/api/nothing").status_code == 404
    assert live.http.post("/api/nothing", json={}).status_code == 404


@pytest.fixture(scope="module")
def cors_api(live: Live) -> Iterator[httpx.Client]:
    """A second API process on the same stack, with CORS on."""
    _, url = live.stack.start_api({"BATCHLAB_CORS_ORIGINS": '["http://app.example"]'})
    with httpx.Client(base_url=url, timeout=30) as http:
        yield http


def test_cors_preflight_still_works_beside_options(cors_api: httpx.Client):
    preflight = cors_api.options("/api/jobs", headers={
        "Origin": "http://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://app.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    plain = cors_api.options("/api/jobs", headers={"Origin": "http://app.example"})
    assert plain.status_code == 204
    assert allow(plain) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert plain.headers["access-control-allow-origin"] == "http://app.example"
