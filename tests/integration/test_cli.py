"""The batchlab command (cli/, issue 16), run as its console script in a subprocess
against the session's live stack, and against an API in API-key mode for the
operator commands. It speaks only HTTP: these processes get no AWS variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from core.devstack import BIN, ROOT, Stack, free_port

RUN = uuid.uuid4().hex[:8]
TENANT_KEY, OPERATOR_KEY = f"cli-tenant-{RUN}", f"cli-op-{RUN}"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture(scope="session")
def batchlab(tmp_path_factory) -> Callable[..., Result]:
    """``batchlab ARGS``: the installed console script, or (before ``pip install -e .``
    made one for this checkout) the same wrapper pip writes for pyproject's entry."""
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["batchlab"]
    assert entry == "cli.main:app"
    script = BIN / "batchlab"
    if not script.exists():
        script = tmp_path_factory.mktemp("bin") / "batchlab"
        module, attr = entry.split(":")
        script.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {attr}\n"
                          f"if __name__ == '__main__':\n    sys.exit({attr}())\n")
        script.chmod(0o755)
    # No AWS variables and no key from the caller's environment: HTTP only.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BATCHLAB_"))}
    env |= {"PYTHONPATH": str(ROOT), "COLUMNS": "250", "NO_COLOR": "1"}

    def run(*args: str, extra_env: dict[str, str] | None = None, stdin: str | None = None,
            timeout: float = 60) -> Result:
        proc = subprocess.run([str(script), *args], env={**env, **(extra_env or {})},
                              input=stdin, capture_output=True, text=True, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)
    return run


@pytest.fixture
def cli(live, batchlab) -> Callable[..., Result]:
    """batchlab against the session's API (open mode)."""
    return lambda *args, **kw: batchlab("--api", live.api_url, *args, **kw)


@pytest.fixture(scope="module")
def keyed(stack: Stack) -> Iterator[str]:
    env = {"BATCHLAB_API_KEYS": json.dumps({TENANT_KEY: f"cli-{RUN}"}),
           "BATCHLAB_ADMIN_KEYS": json.dumps({OPERATOR_KEY: "ops-cli"})}
    service, url = stack.start_api(env)
    yield url
    service.stop()


def test_submit_wait_prints_the_finished_job_with_its_result(cli, owner):
    res = cli("submit", "sha256", "--payload", '{"text": "hello world"}', "--owner", owner,
              "--name", "cli hello", "--wait", "--timeout", "60")
    assert res.code == 0, res.err
    job = res.json()
    assert job["status"] == "COMPLETED" and job["name"] == "cli hello"
    assert job["result"]["sha256"].startswith("b94d27b9934d3e08")


def test_a_result_kept_in_s3_is_fetched_into_the_printed_job(cli, owner):
    res = cli("submit", "simulate", "--payload", '{"resultBytes": 10000}', "--owner", owner,
              "--wait", "--timeout", "60")
    assert res.code == 0, res.err
    job = res.json()
    assert job["resultUrl"] and len(job["result"]["data"]) == 10_000


def test_submit_from_a_file_then_status_and_watch(cli, owner, tmp_path):
    payload = tmp_path / "payload.json"
    payload.write_text('{"text": "from a file"}')
    res = cli("submit", "text-stats", "--payload", f"@{payload}", "--owner", owner)
    assert res.code == 0, res.err
    job = res.json()
    assert job["status"] == "QUEUED" and job["ownerId"] == owner
    watched = cli("status", job["id"], "--watch", "--timeout", "60")
    assert watched.code == 0, watched.err
    assert watched.json()["result"]["words"] == 3
    assert cli("status", job["id"]).json()["status"] == "COMPLETED"


def test_jobs_lists_a_page_then_the_next(cli, live, owner):
    ids = [live.submit("sha256", {"text": "x"}, owner=owner)["id"] for _ in range(2)]
    res = cli("jobs", "--owner", owner, "--limit", "1", "--json")
    assert res.code == 0, res.err
    page = res.json()
    assert [j["id"] for j in page["items"]] == ids[1:] and page["nextCursor"]
    table = cli("jobs", "--owner", owner, "--cursor", page["nextCursor"])
    assert table.code == 0, table.err
    assert ids[0] in table.out and ids[1] not in table.out


def test_a_failed_job_exits_3_with_its_error(cli, owner):
    res = cli("submit", "csv-summary", "--payload", '{"csv": "\\n"}', "--owner", owner,
              "--wait", "--timeout", "60")
    assert res.code == 3, res.err
    assert res.json()["status"] == "FAILED"
    assert "no header row" in res.err


def test_upload_then_a_job_on_the_uploaded_file(cli, owner, tmp_path):
    data = tmp_path / "towns.csv"
    data.write_text("town,people\nLeeds,812000\nYork,202800\n")
    res = cli("upload", str(data), "--owner", owner)
    assert res.code == 0, res.err
    key = res.json()["key"]
    assert key.startswith(f"uploads/{owner}/") and res.json()["size"] == data.stat().st_size
    job = cli("submit", "csv-summary", "--payload", json.dumps({"object": key}),
              "--owner", owner, "--wait", "--timeout", "60")
    assert job.code == 0, job.err
    assert job.json()["result"]["rows"] == 2


def test_problems_exit_1_with_their_title_and_detail(cli, live, owner):
    body = {"name": "n", "type": "no-such-type", "payload": {}, "ownerId": owner}
    problem = live.http.post("/api/jobs", json=body).json()
    res = cli("submit", "no-such-type", "--payload", "{}", "--owner", owner, "--name", "n")
    assert res.code == 1 and not res.out
    assert problem["title"] in res.err and problem["detail"] in res.err.replace("\n", " ")
    missing = cli("status", str(uuid.uuid4()))
    assert missing.code == 1 and "Not Found" in missing.err


def test_usage_errors_exit_2(cli):
    res = cli("submit", "sha256", "--payload", "{not json", "--owner", "o")
    assert res.code == 2 and "--payload" in res.err
    assert cli("submit", "sha256", "--payload", "[1]").code == 2
    assert cli("jobs", "--limit", "0").code == 2


def test_an_unreachable_api_exits_1(batchlab):
    res = batchlab("--api", f"http://127.0.0.1:{free_port()}", "jobs")
    assert res.code == 1 and "cannot reach the API" in res.err


def test_timeout_while_waiting_exits_4(cli, live, owner):
    slow = live.submit("simulate", {"durationSeconds": 5, "steps": 50}, owner=owner)
    try:
        res = cli("status", slow["id"], "--watch", "--timeout", "0.5")
        assert res.code == 4 and "gave up waiting" in res.err
    finally:
        cancelled = cli("cancel", slow["id"])
    assert cancelled.code == 0 and cancelled.json()["status"] == "CANCELLED"


def test_operator_commands_need_the_operator_key(batchlab, keyed):
    as_tenant = batchlab("--api", keyed, "--api-key", TENANT_KEY, "dlq", "redrive")
    title = httpx.post(f"{keyed}/api/dlq/redrive", headers={"X-API-Key": TENANT_KEY}).json()["title"]
    assert as_tenant.code == 1 and title in as_tenant.err
    # The key from the environment, as BATCHLAB_API_KEY.
    env = {"BATCHLAB_API": keyed, "BATCHLAB_API_KEY": OPERATOR_KEY}
    redrive = batchlab("dlq", "redrive", "--max-messages", "5", extra_env=env)
    assert redrive.code == 0, redrive.err
    assert redrive.json()["moved"] >= 0
    cost = batchlab("cost", "--window", "600", "--json", extra_env=env)
    assert cost.code == 0, cost.err
    assert cost.json()["windowSeconds"] == 600
    table = batchlab("cost", extra_env=env)
    assert table.code == 0 and "$ per million jobs" in table.out


def test_bootstrap_runs_core_bootstrap(batchlab, stack):
    aws = {k: v for k, v in stack.env.items() if k.startswith("AWS_")}
    res = batchlab("bootstrap", "--check", extra_env=aws)
    assert res.code == 0, res.err
    assert "resources ready" in res.err



def test_jobs_filters_by_type_name_and_status(cli, live, owner):
    a = live.submit("sha256", {"text": "x"}, owner=owner)
    b = live.submit("text-stats", {"text": "x"}, owner=owner)
    for job in (a, b):
        live.wait_terminal(job["id"])

    def ids(*args: str) -> list[str]:
        res = cli("jobs", "--owner", owner, "--json", *args)
        assert res.code == 0, res.err
        return [j["id"] for j in res.json()["items"]]

    assert ids("--type", "sha256") == [a["id"]]
    assert ids("--name", "text-stats", "--status", "completed,failed") == [b["id"]]
    bad = cli("jobs", "--owner", owner, "--status", "DONE")
    assert bad.code == 1 and "status" in bad.err


def test_dlq_list_needs_the_operator_key(batchlab, keyed):
    as_tenant = batchlab("--api", keyed, "--api-key", TENANT_KEY, "dlq", "list")
    assert as_tenant.code == 1 and "403" in as_tenant.err
    env = {"BATCHLAB_API": keyed, "BATCHLAB_API_KEY": OPERATOR_KEY}
    listed = batchlab("dlq", "list", "--limit", "5", "--json", extra_env=env)
    assert listed.code == 0, listed.err
    assert isinstance(listed.json()["approximateCount"], int)


def test_batch_submit_wait_and_results(cli, live, owner, tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"text": t}) + "\n" for t in ("a", "bb", "ccc")))
    out = tmp_path / "out.jsonl"
    res = cli("batch", "submit", str(items), "--type", "sha256", "--owner", owner,
              "--results", str(out), "--timeout", "90")
    assert res.code == 0, res.err
    batch = res.json()
    assert batch["status"] == "COMPLETED" and batch["total"] == 3
    assert batch["counts"]["COMPLETED"] == 3
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["index"] for line in lines] == [0, 1, 2]
    assert all(line["status"] == "COMPLETED" and line["result"]["bytes"] == i + 1
               for i, line in enumerate(lines))
    status = cli("batch", "status", batch["id"])
    assert status.code == 0 and status.json()["id"] == batch["id"]


def test_a_batch_with_a_failed_item_exits_3(cli, live, owner, tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"csv": "a,b\n1,2\n"}) + "\n" + json.dumps({"csv": "\n"}) + "\n")
    res = cli("batch", "submit", str(items), "--type", "csv-summary", "--owner", owner,
              "--wait", "--timeout", "90")
    assert res.code == 3, res.err
    batch = res.json()
    assert batch["status"] == "COMPLETED_WITH_FAILURES"
    assert (batch["counts"]["COMPLETED"], batch["counts"]["FAILED"]) == (1, 1)
    assert "no header row" in batch["failures"][0]["error"]
