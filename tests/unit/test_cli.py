"""The requests the batchlab command builds (cli/), against a fake API
(httpx.MockTransport): the batch flow of the batch contract and the job filters of
the ops contract, which tests/integration/test_cli.py cannot run until those
endpoints exist."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli import local, shared
from cli.batches import batch_request
from cli.client import Api
from cli.main import app

BATCH_ID = "b-1"


class FakeApi:
    """Records every request; answers like the contracts say."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.polls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, method = request.url.path, request.method
        if (method, path) == ("POST", "/api/uploads"):
            body = json.loads(request.content)
            return httpx.Response(201, json={
                "kind": "single", "key": f"uploads/{body['ownerId']}/k/{body['filename']}",
                "method": "PUT", "headers": {"Content-Type": body["contentType"]},
                "url": "http://s3.test/bucket/put?sig=1", "expiresAt": "2026-01-01T00:00:00Z"})
        if (method, request.url.host) == ("PUT", "s3.test"):
            return httpx.Response(200, headers={"ETag": '"abc"'})
        if (method, path) == ("POST", "/api/batches"):
            return httpx.Response(202, json=self.batch("RUNNING"))
        if (method, path) == ("GET", f"/api/batches/{BATCH_ID}"):
            self.polls += 1
            return httpx.Response(200, json=self.batch("RUNNING" if self.polls < 2 else "COMPLETED"))
        if (method, path) == ("POST", f"/api/batches/{BATCH_ID}/cancel"):
            return httpx.Response(200, json=self.batch("CANCELLED"))
        if (method, path) == ("GET", f"/api/batches/{BATCH_ID}/results"):
            return httpx.Response(307, headers={"Location": "http://s3.test/bucket/results"})
        if (method, path) == ("GET", "/bucket/results"):
            lines = [{"index": i, "jobId": f"j{i}", "status": "COMPLETED", "result": {}}
                     for i in range(2)]
            return httpx.Response(200, content="".join(json.dumps(x) + "\n" for x in lines))
        if (method, path) == ("GET", "/api/jobs"):
            job = {"id": "j1", "name": "nightly [/x]", "type": "sha256", "ownerId": "o",
                   "status": "QUEUED", "progress": 0, "createdAt": "2026-01-01T00:00:00Z"}
            return httpx.Response(200, json={"items": [job], "nextCursor": None})
        return httpx.Response(404, json={"title": "Not Found", "detail": path, "status": 404},
                              headers={"Content-Type": "application/problem+json"})

    def batch(self, status: str) -> dict:
        done = 2 if status == "COMPLETED" else 0
        return {"id": BATCH_ID, "name": "items.jsonl", "type": "sha256", "status": status,
                "total": 2, "ingested": 2, "progress": 50 * done,
                "counts": {"QUEUED": 2 - done, "PROCESSING": 0, "COMPLETED": done,
                           "FAILED": 0, "CANCELLED": 0}}

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


@pytest.fixture
def fake(monkeypatch) -> FakeApi:
    fake = FakeApi()
    transport = httpx.MockTransport(fake)
    monkeypatch.setattr(shared, "Api", lambda url, **kw: Api(url, transport=transport, **kw))
    monkeypatch.setattr("cli.waiting._intervals", lambda: iter([0.0] * 100))
    return fake


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, ["--api", "http://api.test", "--api-key", "k", *args])


def test_batch_submit_uploads_then_names_the_object_waits_and_saves_results(fake, tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text('{"text": "a"}\n{"text": "b"}\n')
    out = tmp_path / "out.jsonl"
    res = invoke("batch", "submit", str(items), "--type", "sha256", "--owner", "alice",
                 "--results", str(out))
    assert res.exit_code == 0, res.output
    upload = json.loads(fake.sent("POST", "/api/uploads")[0].content)
    assert upload == {"filename": "items.jsonl", "contentType": "text/plain",
                      "size": items.stat().st_size, "ownerId": "alice"}
    put = [r for r in fake.requests if r.method == "PUT"][0]
    assert put.content == items.read_bytes() and "X-API-Key" not in put.headers
    assert put.headers["Content-Type"] == "text/plain"
    batch = fake.sent("POST", "/api/batches")[0]
    assert json.loads(batch.content) == {"name": "items.jsonl", "type": "sha256",
                                         "object": "uploads/alice/k/items.jsonl",
                                         "ownerId": "alice", "format": "jsonl"}
    assert batch.headers["X-API-Key"] == "k"
    assert fake.polls == 2
    # The results came through the redirect to S3, without the key.
    assert [json.loads(x)["jobId"] for x in out.read_text().splitlines()] == ["j0", "j1"]
    assert "X-API-Key" not in fake.sent("GET", "/bucket/results")[0].headers
    assert json.loads(res.stdout)["status"] == "COMPLETED"


def test_batch_request_sends_only_what_was_given():
    assert batch_request(key="uploads/o/k/a.csv", job_type="t", owner=None, name="a.csv",
                         file_format=None, all_or_nothing=False, webhook_url=None) == {
        "name": "a.csv", "type": "t", "object": "uploads/o/k/a.csv"}
    assert batch_request(key="k", job_type="t", owner="o", name="n", file_format="csv",
                         all_or_nothing=True, webhook_url="https://hook.test/x") == {
        "name": "n", "type": "t", "object": "k", "ownerId": "o", "format": "csv",
        "allOrNothing": True, "webhookUrl": "https://hook.test/x"}


@pytest.mark.parametrize(("args", "query"), [
    ([], {}),
    (["--owner", "alice", "--limit", "5"], {"ownerId": "alice", "limit": "5"}),
    (["--status", "failed,queued", "--status", "CANCELLED", "--type", "sha256", "--name", "nightly"],
     {"status": "FAILED,QUEUED,CANCELLED", "type": "sha256", "name": "nightly"}),
    (["--name", "x", "--name-match", "contains", "--created-after", "2026-01-01T00:00:00Z",
      "--created-before", "2026-02-01T00:00:00Z", "--order", "oldest"],
     {"name": "x", "nameMatch": "contains", "createdAfter": "2026-01-01T00:00:00Z",
      "createdBefore": "2026-02-01T00:00:00Z", "order": "oldest"}),
])
def test_jobs_passes_only_the_filters_given(fake, args, query):
    res = invoke("jobs", "--json", *args)
    assert res.exit_code == 0, res.output
    assert dict(fake.sent("GET", "/api/jobs")[0].url.params) == query


def test_batch_status_of_an_unknown_batch_is_a_problem(fake):
    res = invoke("batch", "status", "nope")
    assert res.exit_code == 1
    assert "Not Found" in res.stderr


def test_dev_environment_defaults_yield_to_the_callers(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    env = local.dev_env(api_port=1, flower_port=2, sqs_port=3, dynamodb_port=4,
                        worker_metrics_port=5)
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:3"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:4"
    assert env["PATH"].startswith(str(local.BIN))
    assert env["PYTHONPATH"].split(":")[0] == str(Path(local.ROOT))


def test_dev_runs_the_procfile_with_the_runner(monkeypatch, tmp_path):
    # The whole stack takes ~25 s to start and stop on this machine (run by hand); this
    # checks what `dev` hands to core.runner, which tests/integration/test_run_command.py runs.
    from core import runner

    seen = {}

    def fake_main(argv):
        seen.update(argv=argv, cwd=Path.cwd(), env=dict(os.environ))
        return 0

    monkeypatch.setattr(runner, "main", fake_main)
    monkeypatch.chdir(tmp_path)
    for name in ("API_PORT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # dev updates it: keep ours
    res = CliRunner().invoke(app, ["dev", "--api-port", "8123", "--sqs-port", "4111"])
    assert res.exit_code == 0, res.output
    assert seen["argv"] == ["Procfile", "--last", "sqs,dynamodb"]
    assert seen["cwd"] == local.ROOT
    assert seen["env"]["API_PORT"] == "8123"
    assert seen["env"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4111"
    assert "http://127.0.0.1:8123/" in res.stdout


def test_a_large_upload_goes_in_parts_then_is_completed(monkeypatch, tmp_path):
    data = tmp_path / "big.csv"
    data.write_bytes(b"h\n" + b"x" * 23)  # 25 bytes: parts of 10, 10 and 5
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/uploads":
            parts = [{"partNumber": n, "url": f"http://s3.test/p{n}", "size": size}
                     for n, size in ((1, 10), (2, 10), (3, 5))]
            return httpx.Response(201, json={"kind": "multipart", "key": "uploads/o/k/big.csv",
                                             "headers": {}, "partSize": 10, "parts": parts,
                                             "uploadId": "u1", "expiresAt": "2026-01-01T00:00:00Z",
                                             "completeUrl": "/api/uploads/u1/complete"})
        if request.method == "PUT":
            return httpx.Response(200, headers={"ETag": f'"e{request.url.path[-1]}"'})
        assert request.url.path == "/api/uploads/u1/complete"
        return httpx.Response(200, json={"key": "uploads/o/k/big.csv", "size": 25})

    monkeypatch.setattr(shared, "Api", lambda url, **kw: Api(
        url, transport=httpx.MockTransport(answer), **kw))
    res = invoke("upload", str(data), "--owner", "o")
    assert res.exit_code == 0, res.output
    puts = [r for r in seen if r.method == "PUT"]
    assert b"".join(r.content for r in puts) == data.read_bytes()
    assert [r.headers["Content-Length"] for r in puts] == ["10", "10", "5"]
    assert not any("Transfer-Encoding" in r.headers for r in puts)  # S3 wants the length
    assert json.loads(seen[-1].content) == {"key": "uploads/o/k/big.csv", "parts": [
        {"partNumber": n, "etag": f'"e{n}"'} for n in (1, 2, 3)]}
    assert json.loads(res.stdout) == {"key": "uploads/o/k/big.csv", "size": 25}


def test_progress_text_escapes_names():
    from rich.text import Text

    from cli.waiting import describe_batch, describe_job

    text, percent = describe_job({"id": "j", "name": "nightly [/x] run", "status": "PROCESSING",
                                  "progress": 40})
    assert Text.from_markup(text).plain == "nightly [/x] run PROCESSING" and percent == 40
    text, _ = describe_batch({"id": "b", "name": "[bold", "status": "RUNNING", "total": None,
                              "counts": {"COMPLETED": 2, "FAILED": 1}, "progress": 0})
    assert Text.from_markup(text).plain == "[bold RUNNING 3/? (1 failed)"


def test_the_jobs_table_shows_names_as_they_are(fake):
    res = invoke("jobs")
    assert res.exit_code == 0, res.output
    assert "nightly [/x]" in res.stdout


def test_batch_cancel_posts_to_the_contracts_path(fake):
    res = invoke("batch", "cancel", BATCH_ID)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "CANCELLED"
    assert len(fake.sent("POST", f"/api/batches/{BATCH_ID}/cancel")) == 1
