"""Issue 15, the API: find jobs (filters, order, cursors bound to their filters, the
read bound), retry and re-run, bulk actions with their dry run, the times on each job.

One API and one worker of this module's own (open mode) on the session's moto: jobs
get 2 attempts (a failing job is FAILED within seconds) and a filtered list reads at
most 10 jobs per request, so the bound shows with a dozen jobs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from core.devstack import ROOT, Stack, wait_for
from tests.conftest import Live

ENV = {
    "BATCHLAB_DEFAULT_MAX_ATTEMPTS": "2",
    "BATCHLAB_LIST_MAX_EXAMINED": "10",
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
    "BATCHLAB_METER_FLUSH_SECONDS": "0.5",
    "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "1",
}
SLOW = {"durationSeconds": 30, "steps": 60}
FAIL = {"failureProbability": 1}


@pytest.fixture(scope="module")
def ops(stack: Stack) -> Iterator[Live]:
    api, url = stack.start_api(ENV)
    worker = stack.start_worker(ENV)
    with httpx.Client(base_url=url, timeout=30) as http:
        yield Live(stack=stack, api_url=url, http=http)
    worker.stop()
    api.stop()


def batch(ops: Live, owner: str, jobs: list[tuple[str, str, dict]]) -> list[str]:
    """Submit (name, type, payload) jobs in one request, oldest first; their ids."""
    body = {"jobs": [{"name": n, "type": t, "payload": p, "ownerId": owner} for n, t, p in jobs]}
    resp = ops.http.post("/api/jobs:batch", json=body)
    assert resp.status_code == 202 and resp.json()["accepted"] == len(jobs), resp.text
    return [r["job"]["id"] for r in resp.json()["results"]]


def listed(ops: Live, **params) -> dict:
    resp = ops.http.get("/api/jobs", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def every_page(ops: Live, **params) -> tuple[list[str], int]:
    """All ids across pages, following cursors; and how many requests it took."""
    ids, cursor, requests = [], None, 0
    while True:
        page = listed(ops, **params, **({"cursor": cursor} if cursor else {}))
        requests += 1
        ids += [j["id"] for j in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            return ids, requests


def dynamodb_reads(ops: Live) -> dict[str, float]:
    """The API's DynamoDB read requests so far, by operation (its /metrics)."""
    counts: dict[str, float] = {}
    for line in ops.http.get("/metrics").text.splitlines():
        if line.startswith("batchlab_aws_requests_total{") and 'service="dynamodb"' in line:
            operation = line.split('operation="')[1].split('"')[0]
            counts[operation] = counts.get(operation, 0) + float(line.rsplit(" ", 1)[1])
    return counts


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {op: n - before.get(op, 0) for op, n in after.items()
            if n != before.get(op, 0) and op in ("Query", "BatchGetItem", "GetItem", "Scan")}


def problem(resp: httpx.Response, status: int, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    if field:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def test_the_list_filters_by_status_type_name_and_time_and_sorts_both_ways(ops, owner):
    ids = batch(ops, owner, [("Alpha one", "sha256", {"text": "a"}),
                             ("alpha two", "text-stats", {"text": "a b"}),
                             ("Report beta", "sha256", {"text": "b"}),
                             ("broken", "simulate", FAIL)])
    for job_id in ids:
        ops.wait_terminal(job_id)
    newest = [j["id"] for j in listed(ops, ownerId=owner)["items"]]
    assert newest == ids[::-1]
    assert [j["id"] for j in listed(ops, ownerId=owner, order="oldest")["items"]] == ids
    assert [j["id"] for j in listed(ops, ownerId=owner, type="sha256")["items"]] == [ids[2], ids[0]]
    assert [j["id"] for j in listed(ops, ownerId=owner, status="FAILED")["items"]] == [ids[3]]
    both = listed(ops, ownerId=owner, status="FAILED,COMPLETED")["items"]
    assert len(both) == 4
    repeated = ops.http.get("/api/jobs", params=[("ownerId", owner), ("status", "FAILED"),
                                                  ("status", "completed")])
    assert len(repeated.json()["items"]) == 4
    assert [j["id"] for j in listed(ops, ownerId=owner, name="ALPHA")["items"]] == [ids[1], ids[0]]
    assert [j["id"] for j in listed(ops, ownerId=owner, name="BETA", nameMatch="contains")["items"]] \
        == [ids[2]]
    assert listed(ops, ownerId=owner, name="beta")["items"] == []  # a prefix, not contains
    created = [j["createdAt"] for j in listed(ops, ownerId=owner, order="oldest")["items"]]
    window = listed(ops, ownerId=owner, createdAfter=created[1], createdBefore=created[3])
    assert [j["id"] for j in window["items"]] == [ids[2], ids[1]]  # [after, before)
    assert [j["id"] for j in listed(ops, ownerId=owner, createdAfter=created[3])["items"]] == [ids[3]]


def test_a_cursor_pages_through_a_filter_and_only_that_filter(ops, owner):
    ids = batch(ops, owner, [(f"job {i}", "sha256" if i % 2 else "text-stats", {"text": "x"})
                             for i in range(5)])
    sha = {ids[1], ids[3]}
    pages, _ = every_page(ops, ownerId=owner, type="sha256", limit=1)
    assert pages == [ids[3], ids[1]] and set(pages) == sha
    first = listed(ops, ownerId=owner, type="sha256", limit=1)
    assert first["nextCursor"]
    for other in ({"type": "text-stats"}, {"type": "sha256", "order": "oldest"},
                  {"type": "sha256", "status": "QUEUED"}, {"type": "sha256", "name": "job"}):
        body = problem(ops.http.get("/api/jobs", params={"ownerId": owner, "limit": 1,
                                                          "cursor": first["nextCursor"], **other}),
                       422, "cursor")
        assert body["type"].endswith("invalid-cursor")
    # The same filters with another page size are fine.
    again = listed(ops, ownerId=owner, type="sha256", limit=5, cursor=first["nextCursor"])
    assert [j["id"] for j in again["items"]] == [ids[1]]
    # Without filters, pages of 2 read 2 (+ 1 key) at a time and end with no cursor:
    # one Query and one BatchGetItem per page.
    before = dynamodb_reads(ops)
    assert every_page(ops, ownerId=owner, limit=2) == (ids[::-1], 3)
    assert delta(before, dynamodb_reads(ops)) == {"Query": 3, "BatchGetItem": 3}


def test_a_rare_filter_reads_a_bounded_number_of_jobs_per_request(ops, owner):
    # 12 jobs newer than the one that matches; a request reads at most 10 (ENV).
    rare = batch(ops, owner, [("rare", "text-stats", {"text": "r"})])[0]
    batch(ops, owner, [(f"common {i}", "sha256", {"text": "c"}) for i in range(12)])
    before = dynamodb_reads(ops)
    first = listed(ops, ownerId=owner, type="text-stats", limit=5)
    assert first["items"] == [] and first["nextCursor"], first
    # The bound (10 jobs) took one Query and one BatchGetItem: ~0.51 RRU per job read.
    assert delta(before, dynamodb_reads(ops)) == {"Query": 1, "BatchGetItem": 1}
    found, requests = every_page(ops, ownerId=owner, type="text-stats", limit=5)
    assert found == [rare] and requests == 2


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "DONE"}, "status"),
    ({"status": "QUEUED,nope"}, "status"),
    ({"nameMatch": "regex"}, "nameMatch"),
    ({"order": "random"}, "order"),
    ({"createdAfter": "yesterday"}, "createdAfter"),
    ({"createdAfter": "2026-01-02T00:00:00Z", "createdBefore": "2026-01-01T00:00:00Z"},
     "createdBefore"),
    ({"type": ""}, "type"),
])
def test_bad_filters_are_422_naming_the_parameter(ops, params, field):
    body = problem(ops.http.get("/api/jobs", params={"ownerId": "someone", **params}), 422, field)
    assert all(e["message"].startswith(f"{e['field']}: ") for e in body["errors"]), body


def test_a_job_says_how_long_it_waited_and_ran_and_when_its_retry_is_due(ops, owner):
    done = ops.wait_terminal(ops.submit("sha256", {"text": "t"}, owner=owner)["id"])
    assert done["queueWaitMs"] >= 0 and done["runMs"] >= 0
    assert done["startedAttempt"] == 1 and done["nextAttemptAt"] is None
    failing = ops.submit("simulate", FAIL, owner=owner)["id"]
    # The worker (concurrency 1) runs this next, so the failed job's retry (due ~1 s
    # later) waits behind it for seconds: time enough to see it on a loaded machine.
    busy = ops.submit("simulate", {"durationSeconds": 20, "steps": 20}, owner=owner)["id"]
    waiting = wait_for(lambda: (j := ops.http.get(f"/api/jobs/{failing}").json())["nextAttemptAt"]
                       and j, timeout=60, what="the failed attempt's retry", every=0.05)
    ops.http.post(f"/api/jobs/{busy}/cancel")
    assert waiting["status"] == "QUEUED" and waiting["attempts"] == 1
    assert waiting["startedAttempt"] == 1 and waiting["runMs"] is None
    summary = next(j for j in listed(ops, ownerId=owner)["items"] if j["id"] == failing)
    assert "nextAttemptAt" in summary and "payload" not in summary
    failed = ops.wait_terminal(failing)
    assert failed["status"] == "FAILED" and failed["startedAttempt"] == 2
    assert failed["nextAttemptAt"] is None and failed["runMs"] >= 0
    assert failed["queueWaitMs"] == waiting["queueWaitMs"]  # created → the first start


def test_retry_continues_the_attempts_of_a_failed_job_and_says_so(ops, owner):
    job_id = ops.submit("simulate", FAIL, owner=owner)["id"]
    failed = ops.wait_terminal(job_id)
    assert (failed["status"], failed["attempts"], failed["maxAttempts"]) == ("FAILED", 2, 2)
    resp = ops.http.post(f"/api/jobs/{job_id}/retry")
    assert resp.status_code == 202, resp.text
    retried = resp.json()
    assert retried["id"] == job_id and retried["status"] == "QUEUED"
    assert (retried["attempts"], retried["maxAttempts"]) == (2, 4)
    assert retried["error"] is None and retried["finishedAt"] is None
    assert retried["history"][-1] == {**retried["history"][-1], "status": "QUEUED", "note": "retried"}
    again = ops.wait_terminal(job_id)
    assert (again["status"], again["attempts"]) == ("FAILED", 4)
    assert "retried" in [h["note"] for h in again["history"]] or again["historyCount"] > 4
    # Anything but FAILED or CANCELLED is a 409; an unknown job a 404.
    done = ops.wait_terminal(ops.submit("sha256", {"text": "r"}, owner=owner)["id"])
    assert "COMPLETED" in problem(ops.http.post(f"/api/jobs/{done['id']}/retry"), 409)["detail"]
    problem(ops.http.post(f"/api/jobs/{uuid.uuid4()}/retry"), 404)
    problem(ops.http.post("/api/jobs/nope/retry"), 422, "job_id")


def test_a_cancelled_job_can_be_retried(ops, owner):
    job_id = ops.submit("simulate", SLOW, owner=owner)["id"]
    assert ops.http.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "CANCELLED"
    retried = ops.http.post(f"/api/jobs/{job_id}/retry").json()
    assert retried["status"] == "QUEUED" and retried["history"][-1]["note"] == "retried"
    problem(ops.http.post(f"/api/jobs/{job_id}/retry"), 409)  # QUEUED (or running) now
    assert ops.http.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "CANCELLED"


def test_rerun_makes_a_new_job_with_the_same_input(ops, owner):
    old = ops.wait_terminal(ops.submit("text-stats", {"text": "one two"}, owner=owner)["id"])
    resp = ops.http.post(f"/api/jobs/{old['id']}/rerun")
    assert resp.status_code == 202, resp.text
    new = resp.json()
    assert resp.headers["location"] == f"/api/jobs/{new['id']}" and new["id"] != old["id"]
    assert new["rerunOf"] == old["id"] and new["status"] == "QUEUED"
    assert (new["name"], new["type"], new["ownerId"], new["payload"]) == \
        (old["name"], old["type"], old["ownerId"], old["payload"])
    assert ops.wait_terminal(new["id"])["result"] == old["result"]
    assert ops.http.get(f"/api/jobs/{old['id']}").json()["historyCount"] == old["historyCount"]
    running = ops.submit("simulate", SLOW, owner=owner)["id"]
    problem(ops.http.post(f"/api/jobs/{running}/rerun"), 409)
    ops.http.post(f"/api/jobs/{running}/cancel")


def test_bulk_cancel_and_retry_count_first_then_act_on_the_same_jobs(ops, owner):
    done = batch(ops, owner, [("quick", "sha256", {"text": "q"})])
    ops.wait_terminal(done[0])
    slow = batch(ops, owner, [(f"slow {i}", "simulate", SLOW) for i in range(3)])
    cancel = {"action": "cancel", "filter": {"ownerId": owner, "type": "simulate"}}
    dry = ops.http.post("/api/jobs/bulk", json=cancel).json()
    assert dry == {"action": "cancel", "dryRun": True, "matched": 3, "acted": 0, "capped": False,
                   "jobIds": slow[::-1]}
    assert {ops.http.get(f"/api/jobs/{i}").json()["status"] for i in slow} <= {"QUEUED", "PROCESSING"}
    capped = ops.http.post("/api/jobs/bulk", json={**cancel, "limit": 2}).json()
    assert (capped["matched"], capped["capped"]) == (2, True)
    # Executing needs the dry run's count, and the count must still hold.
    problem(ops.http.post("/api/jobs/bulk", json={**cancel, "dryRun": False}), 422, "expectedCount")
    stale = problem(ops.http.post("/api/jobs/bulk", json={**cancel, "dryRun": False,
                                                           "expectedCount": 2}), 409)
    assert stale["matched"] == 3 and stale["type"].endswith("bulk-count-changed")
    acted = ops.http.post("/api/jobs/bulk", json={**cancel, "dryRun": False, "expectedCount": 3})
    assert acted.json()["acted"] == 3, acted.text
    for job_id in slow:
        job = ops.http.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "CANCELLED" and job["history"][-1]["note"] == "bulk cancel"
    assert ops.http.get(f"/api/jobs/{done[0]}").json()["status"] == "COMPLETED"
    # Retry every CANCELLED one named "slow 1..2", then cancel them again.
    retry = {"action": "retry", "filter": {"ownerId": owner, "status": ["CANCELLED"],
                                           "name": "slow", "createdAfter": "2020-01-01T00:00:00"}}
    dry = ops.http.post("/api/jobs/bulk", json=retry).json()
    assert dry["matched"] == 3
    acted = ops.http.post("/api/jobs/bulk", json={**retry, "dryRun": False, "expectedCount": 3})
    assert acted.json()["acted"] == 3
    notes = {ops.http.get(f"/api/jobs/{i}").json()["history"][-1]["note"] for i in slow}
    assert notes <= {"bulk retry", None}  # None: a worker started it meanwhile
    assert ops.http.post("/api/jobs/bulk", json={**cancel, "dryRun": False,
                                                 "expectedCount": 3}).json()["acted"] == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "delete"}, "action"),
    ({"action": "cancel", "limit": 1001}, "limit"),
    ({"action": "cancel", "filter": {"status": "NOPE"}}, "filter.status"),
    ({"action": "retry", "filter": {"createdAfter": "2026-01-02T00:00:00Z",
                                    "createdBefore": "2026-01-01"}}, "filter.createdBefore"),
    ({"action": "cancel", "filter": {"colour": "red"}}, "filter.colour"),
    ({"action": "cancel", "expectedCount": -1}, "expectedCount"),
])
def test_bad_bulk_requests_are_422_naming_the_field(ops, body, field):
    problem(ops.http.post("/api/jobs/bulk", json=body), 422, field)



DEAD_LETTER = """
import json, sys, uuid
from core.jobs import store
from core.operations import dlq
from core.aws import client
from core.queues import queue_urls
from core.queues import RUN_JOB
from tasks.messages import message_body
# A job whose message sits in the DLQ, as SQS leaves one (written without a message to
# the jobs queue, its message sent to the DLQ), then marked by a worker's reconcile.
job_id = str(uuid.uuid4())
store.put_job(new=store.new_job(job_id=job_id, owner_id=sys.argv[1], name="dead one",
                                type_="sha256", payload={"text": "d"}, max_attempts=2))
client("sqs").send_message(QueueUrl=queue_urls().dlq, MessageBody=message_body(job_id, task_name=RUN_JOB))
dlq.reconcile_once()
print(json.dumps(job_id))
"""


def dead_lettered_job(ops: Live, owner: str) -> str:
    done = subprocess.run([sys.executable, "-c", DEAD_LETTER, owner], cwd=ROOT, env=ops.stack.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_dlq_lists_its_jobs_and_redrives_one(ops, owner):
    dead = dead_lettered_job(ops, owner)
    other = dead_lettered_job(ops, owner)
    def listed_dead(*wanted: str) -> dict | None:
        # A worker's reconcile may hold the DLQ's messages for an instant: look again.
        body = ops.http.get("/api/dlq", params={"limit": 1000}).json()
        return body if set(wanted) <= {i["jobId"] for i in body["items"]} else None

    listing = wait_for(lambda: listed_dead(dead, other), timeout=30, what="the DLQ list")
    assert listing["approximateCount"] >= 2
    entry = next(i for i in listing["items"] if i["jobId"] == dead)
    assert (entry["type"], entry["ownerId"], entry["attempts"]) == ("sha256", owner, 0)
    assert "dead-letter" in entry["lastError"] and entry["deadLetteredAt"]
    # The look left the messages where they were: they are listed again at once.
    assert wait_for(lambda: listed_dead(dead, other), timeout=30, what="the DLQ list again")
    # A dead-lettered job is redriven, not retried.
    assert "redrive" in problem(ops.http.post(f"/api/jobs/{dead}/retry"), 409)["detail"]
    moved = wait_for(lambda: (r := ops.http.post(f"/api/dlq/{dead}/redrive")).status_code == 200
                     and r, timeout=30, what="the redrive of one job")
    assert moved.json() == {"moved": 1, "jobIds": [dead]}, moved.text
    assert ops.wait_terminal(dead)["status"] == "COMPLETED"
    left = wait_for(lambda: listed_dead(other), timeout=30, what="the DLQ list after")
    assert dead not in {i["jobId"] for i in left["items"]}
    problem(ops.http.post(f"/api/dlq/{dead}/redrive"), 404)
    assert wait_for(lambda: ops.http.post(f"/api/dlq/{other}/redrive").status_code == 200,
                    timeout=30, what="the other redrive")
    ops.wait_terminal(other)


def test_charts_show_finished_jobs_wait_and_run_time_per_minute(ops, owner):
    ids = batch(ops, owner, [("c", "sha256", {"text": str(i)}) for i in range(3)])
    failing = ops.submit("simulate", FAIL, owner=owner)["id"]
    for job_id in (*ids, failing):
        ops.wait_terminal(job_id)

    def charted() -> dict | None:
        minutes = ops.http.get("/api/charts", params={"minutes": 5}).json()["minutes"]
        sha = [m["byType"]["sha256"] for m in minutes if "sha256" in m["byType"]]
        enough = (sum(m["completed"] for m in minutes) >= 3 and sum(m["failed"] for m in minutes) >= 1
                  and sum(s["count"] for s in sha) >= 3)
        return minutes if enough and any(m["queueDepth"] is not None for m in minutes) else None

    minutes = wait_for(charted, timeout=30, what="the workers' flushes to reach the charts")
    assert len(minutes) == 5 and minutes == sorted(minutes, key=lambda m: m["at"])
    figures = [m["byType"]["sha256"] for m in minutes if "sha256" in m["byType"]]
    assert all(f["runP50Ms"] is not None and f["runP95Ms"] >= f["runP50Ms"] for f in figures)
    assert any(f["waitP50Ms"] is not None for f in figures)
    problem(ops.http.get("/api/charts", params={"minutes": 0}), 422, "minutes")
