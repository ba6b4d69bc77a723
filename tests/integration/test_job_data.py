"""Issue 13: a small hot item; payloads and results out of line.

Its own stack with a small result limit (2 MB), so a result over every limit is cheap
to make, and short long polls. Sizes are computed with core.storage.item_size (the function
the meter uses) on the raw items boto3 reads back from moto.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import httpx
import pytest

from core.devstack import ROOT, Stack, wait_for
from core.storage.item_size import item_size
from tests.conftest import Live

MAX_RESULT = 2_000_000
ENV = {
    "BATCHLAB_MAX_RESULT_BYTES": str(MAX_RESULT),
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
}
KB = 1024


@pytest.fixture(scope="module")
def dlive(tmp_path_factory) -> Iterator[Live]:
    stack = Stack(tmp_path_factory.mktemp("job-data-logs"), extra_env=ENV)
    try:
        stack.start_moto()
        _, url = stack.start_api()
        stack.start_worker()
        with httpx.Client(base_url=url, timeout=30) as http:
            yield Live(stack=stack, api_url=url, http=http)
    finally:
        stack.stop_all()


def raw_item(live: Live, key: str) -> dict | None:
    return live.aws("dynamodb").get_item(TableName="Jobs", Key={"JobId": {"S": key}},
                                         ConsistentRead=True).get("Item")


# Runs a service call in a process configured for the stack, recording every AWS call
# it makes (operation, table or bucket, keys) and the size of every item it reads.
RECORD = """
import json, sys
from core.jobs import service
from core.aws import client
from core.storage.item_size import item_size
calls = []
def before(params, model, **kw):
    calls.append({"op": model.name, "table": params.get("TableName"),
                  "bucket": params.get("Bucket"), "key": params.get("Key"),
                  "keys": [k["JobId"]["S"] for t in params.get("RequestItems", {}).values()
                           for k in t.get("Keys", [])]})
def after(parsed, model, **kw):
    items = [parsed["Item"]] if "Item" in parsed else []
    calls[-1]["sizes"] = [item_size(i) for i in items]
for service_name in ("dynamodb", "s3"):
    client(service_name).meta.events.register("before-parameter-build", before)
    client(service_name).meta.events.register("after-call", after)
what, arg = sys.argv[1], sys.argv[2]
if what == "get":
    service.get_job(arg)
else:
    service.list_jobs(owner_id=arg, status=None, limit=20, cursor=None)
print(json.dumps(calls))
"""


def record(live: Live, what: str, arg: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", RECORD, what, arg], cwd=ROOT,
                          env=live.stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_60_kb_payload_and_1_mb_result_leave_the_hot_item_under_1_kb(dlive, owner):
    filler = "p" * (60 * KB)
    job = dlive.submit("simulate", {"filler": filler, "resultBytes": 1024 * KB}, owner=owner)
    assert job["payload"] is None and job["payloadBytes"] > 60 * KB
    done = dlive.wait_terminal(job["id"], timeout=90)
    assert done["status"] == "COMPLETED", done
    hot = raw_item(dlive, job["id"])
    assert item_size(hot) < 1024, (item_size(hot), hot)
    # Cross-check with boto3's own view of the item: no payload or result in it,
    # and its attributes as boto3 read them from moto add up the same.
    assert not {"Payload", "Result"} & set(hot)
    assert (hot["PayloadIn"]["S"], hot["ResultIn"]["S"]) == ("s3", "s3")
    assert int(hot["ResultBytes"]["N"]) == done["resultBytes"] > 1024 * KB
    assert sum(item_size({k: v}) for k, v in hot.items()) == item_size(hot)
    # The result comes back whole: GET gives a presigned URL, /result redirects to it.
    assert done["result"] is None and done["resultUrl"]
    with urllib.request.urlopen(done["resultUrl"], timeout=30) as resp:
        result = json.loads(resp.read())
    assert result["data"] == "x" * (1024 * KB)
    redirect = dlive.http.get(f"/api/jobs/{job['id']}/result")
    assert redirect.status_code == 307 and "result-1.json" in redirect.headers["location"]
    # And the payload whole, on request.
    assert dlive.http.get(f"/api/jobs/{job['id']}/payload").json()["filler"] == filler


def test_a_mid_sized_payload_and_result_go_to_data_items(dlive, owner):
    job = dlive.submit("simulate", {"filler": "q" * (4 * KB), "resultBytes": 3 * KB}, owner=owner)
    done = dlive.wait_terminal(job["id"], timeout=60)
    assert done["status"] == "COMPLETED", done
    assert done["result"]["data"] == "x" * (3 * KB) and done["resultUrl"] is None
    hot = raw_item(dlive, job["id"])
    assert item_size(hot) < 1024
    assert (hot["PayloadIn"]["S"], hot["ResultIn"]["S"]) == ("item", "item")
    data = raw_item(dlive, f"{job['id']}#payload")
    assert "OwnerId" not in data and "CreatedAt" not in data  # never in the owner index
    assert json.loads(data["Data"]["S"])["filler"] == "q" * (4 * KB)
    download = dlive.http.get(f"/api/jobs/{job['id']}/result")
    assert download.status_code == 200 and download.json()["data"] == "x" * (3 * KB)
    assert "attachment" in download.headers["content-disposition"]


def test_a_tiny_job_keeps_payload_and_result_in_its_hot_item(dlive, owner):
    job = dlive.submit("sha256", {"text": "hello world"}, owner=owner)
    assert job["payload"] == {"text": "hello world"}
    done = dlive.wait_terminal(job["id"])
    assert done["result"]["bytes"] == 11
    hot = raw_item(dlive, job["id"])
    assert "Payload" in hot and "Result" in hot and item_size(hot) < 1024


def test_a_status_poll_reads_only_the_hot_item(dlive, owner):
    job = dlive.submit("simulate", {"filler": "r" * (60 * KB), "durationSeconds": 60,
                                    "steps": 60}, owner=owner)
    try:
        wait_for(lambda: dlive.http.get(f"/api/jobs/{job['id']}").json()["status"] == "PROCESSING",
                 timeout=60, what="the job to start")
        calls = record(dlive, "get", job["id"])
        assert [(c["op"], c["table"]) for c in calls] == [("GetItem", "Jobs")]
        assert calls[0]["key"] == {"JobId": {"S": job["id"]}}
        # One eventually consistent read of an item under 4 KB: 0.5 RRU.
        assert calls[0]["sizes"][0] < 1024
    finally:
        dlive.http.post(f"/api/jobs/{job['id']}/cancel")


def test_the_job_list_never_reads_payloads_or_results(dlive, owner):
    ids = [dlive.submit("simulate", {"filler": "s" * (60 * KB), "resultBytes": n}, owner=owner)["id"]
           for n in (10, 5 * KB, 100 * KB)]
    # A type the code before issue 13 had too: 60 KB of text, its payload.
    ids.append(dlive.submit("text-stats", {"text": "t " * 30_000}, owner=owner)["id"])
    for job_id in ids:
        assert dlive.wait_terminal(job_id, timeout=60)["status"] == "COMPLETED"
    calls = record(dlive, "list", owner)
    assert {c["op"] for c in calls} == {"Query", "BatchGetItem"}  # no S3, no GetItem
    read = [k for c in calls for k in c["keys"]]
    assert sorted(read) == sorted(ids)  # hot items only, never a "<id>#..." data item
    # BatchGetItem is billed on the whole item whatever the projection: each is < 1 KB.
    assert all(item_size(raw_item(dlive, job_id)) < 1024 for job_id in ids)


def test_a_result_over_every_limit_ends_failed_saying_why(dlive, owner):
    job = dlive.submit("simulate", {"resultBytes": MAX_RESULT + 1}, owner=owner)
    done = dlive.wait_terminal(job["id"], timeout=60)
    assert done["status"] == "FAILED", done
    assert done["result"] is None and done["resultUrl"] is None
    assert "the result was not stored" in done["error"]
    assert f"over the limit of {MAX_RESULT} bytes for a result" in done["error"]
    assert dlive.http.get(f"/api/jobs/{job['id']}/result").status_code == 409


def test_a_batch_stores_each_payload_where_its_size_says(dlive, owner):
    jobs = [{"name": f"b{n}", "type": "simulate", "payload": {"filler": "b" * n},
             "ownerId": owner} for n in (10, 4 * KB, 20 * KB)]
    resp = dlive.http.post("/api/jobs:batch", json={"jobs": jobs})
    assert resp.status_code == 202 and resp.json()["accepted"] == 3, resp.text
    ids = [r["job"]["id"] for r in resp.json()["results"]]
    wheres = []
    for job_id, job in zip(ids, jobs, strict=True):
        assert dlive.wait_terminal(job_id)["status"] == "COMPLETED"
        got = dlive.http.get(f"/api/jobs/{job_id}/payload").json()
        assert got["filler"] == job["payload"]["filler"]
        hot = raw_item(dlive, job_id)
        wheres.append(hot["PayloadIn"]["S"] if "PayloadIn" in hot else "inline")
    assert wheres == ["inline", "item", "s3"]
