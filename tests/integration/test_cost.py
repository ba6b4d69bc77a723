"""/api/cost counts every process (Flower and the bootstrap included), per job apart from
the idle fleet, over a window (issue 13).

moto's request recorder sees every request each process sends; the meters (core.cost.meter,
flushed per minute by core.cost.costs) must add up to the same counts, service by service.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from core.devstack import MOTO_SERVER, Stack, wait_for
from tests.conftest import TERMINAL
from tests.integration.test_iam import ROLE_KEY, allows, load_policy, parse_call

FLUSH = 0.5
ENV = {
    "BATCHLAB_METER_FLUSH_SECONDS": str(FLUSH),
    "BATCHLAB_WAIT_TIME_SECONDS": "2",
    "BATCHLAB_DLQ_RECONCILE_SECONDS": "0",
    "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "1",
    "BATCHLAB_FLOWER_USER": "cost",
    "BATCHLAB_FLOWER_PASSWORD": "cost-test-password",
}
JOBS = 6
FLOWER_AUTH = ("cost", "cost-test-password")


def _recorded(paths: list[Path]) -> tuple[Counter[str], set]:
    """Requests signed by a BatchLab role, by service and by role and service (the test's own
    client is not), and the calls themselves."""
    counts: Counter[str] = Counter()
    calls = set()
    for path in paths:
        for line in path.read_text().splitlines():
            call = parse_call(json.loads(line))
            if call is not None:
                calls.add(call)
                counts[call.action.split(":")[0]] += 1
                counts[f"{call.role}:{call.action.split(':')[0]}"] += 1
    return counts, calls


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Iterator[dict]:
    """A stack with the recorder on; jobs, then a report while running, then every
    process stopped cleanly (their last flush at exit)."""
    logs = tmp_path_factory.mktemp("cost-logs")
    recordings = [logs / "moto-sqs-sns.jsonl", logs / "moto-dynamodb.jsonl"]
    stack = Stack(logs, extra_env={**ENV, "BATCHLAB_EVENTS_NODE": f"cost{uuid.uuid4().hex[:6]}",
                                   "AWS_ACCESS_KEY_ID": ROLE_KEY["bootstrap"]})
    try:
        for port, path in zip((stack.sqs_port, stack.dynamodb_port), recordings, strict=True):
            stack.spawn("moto", [*MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
                        {"MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(path)})
        stack.bootstrap("--wait")
        api, url = stack.start_api({"AWS_ACCESS_KEY_ID": ROLE_KEY["api"]})
        worker = stack.start_worker({"AWS_ACCESS_KEY_ID": ROLE_KEY["worker"]})
        flower, flower_url = stack.start_flower({"AWS_ACCESS_KEY_ID": ROLE_KEY["flower"]})
        fl = httpx.Client(base_url=flower_url, timeout=30, auth=FLOWER_AUTH)
        # Flower reads events once its queue is subscribed: its first heartbeat shows it.
        wait_for(lambda: fl.get("/workers", params={"json": 1}).json()["data"], timeout=60,
                 what="Flower to see the worker's heartbeats", every=0.2)
        with httpx.Client(base_url=url, timeout=30) as http:
            ids = [http.post("/api/jobs", json={"name": f"c{i}", "type": "sha256",
                                                "payload": {"text": f"{i}"}, "ownerId": "cost"}
                             ).json()["id"] for i in range(JOBS)]
            for job_id in ids:
                wait_for(lambda j=job_id: http.get(f"/api/jobs/{j}").json()["status"] in TERMINAL,
                         timeout=60, what=f"job {job_id}", every=0.2)
            wait_for(lambda: sum(t["state"] == "SUCCESS" for t in fl.get("/api/tasks").json().values())
                     == JOBS, timeout=60, what="Flower to see the jobs' events", every=0.2)
            live = wait_for(
                lambda: (r := http.get("/api/cost").json())["jobsFinished"] == JOBS
                and r["jobsCreated"] == JOBS and r["perJob"]["snsRequests"]
                and set(r["roles"]) >= {"api", "worker", "worker-main", "flower", "bootstrap"} and r,
                timeout=60, what="every role's meter in the report", every=0.5)
            narrow = http.get("/api/cost", params={"window": 60}).json()
            bad = http.get("/api/cost", params={"window": 5})
        for service in (flower, worker, api):
            service.stop(timeout=30)
        ddb = boto3.client("dynamodb", endpoint_url=stack.env["AWS_ENDPOINT_URL_DYNAMODB"],
                           region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        items = ddb.scan(TableName="BatchLabMeters")["Items"]  # few: a test's minutes
        recorded, calls = _recorded(recordings)
        yield {"live": live, "narrow": narrow, "bad": bad, "items": items,
               "recorded": recorded, "calls": calls, "worker_log": worker.log()}
    finally:
        stack.stop_all()


def test_the_meters_count_what_moto_received_from_every_process(run):
    metered: Counter[str] = Counter()
    processes = set()
    for item in run["items"]:
        processes.add(item["Process"]["S"])
        for calls in json.loads(item["Counts"]["S"])["requests"].values():
            for call, n in calls.items():
                metered[call.split(".")[0]] += n
                role = item["Role"]["S"].replace("worker-main", "worker")
                metered[f"{role}:{call.split('.')[0]}"] += n
    recorded = run["recorded"]
    diff = {k: (recorded[k], metered[k]) for k in set(recorded) | set(metered) if recorded[k] != metered[k]}
    # Each process's last flush writes the counts before it, not itself: one PutItem each.
    assert recorded["dynamodb"] == metered["dynamodb"] + len(processes), diff
    assert recorded["sqs"] == metered["sqs"], diff
    assert recorded["sns"] == metered["sns"], diff
    assert recorded["s3"] == metered["s3"], diff


def test_per_job_figures_are_apart_from_the_idle_fleet(run):
    report = run["live"]
    assert report["jobsCreated"] == JOBS
    per_job = report["perJob"]
    # A job: its send, receive share, delete (SQS); put, start, finish (DynamoDB); no
    # heartbeats or empty long polls, whatever the few jobs and the idle time around them.
    # The one exception, logged by the worker: a message that outran its job's put (the
    # API sends first) costs a refused start per try (tasks/execution.py _start).
    refused = sum(int(n) for n in re.findall(r"(\d+) start writes refused", run["worker_log"]))
    assert per_job["dynamodbWriteRequests"] == round((3 * JOBS + refused) / JOBS, 4)
    # SQS: send, delete, a receive each (they trickle in one by one), and Flower's share of
    # the receives and deletes of task events.
    assert per_job["sqsRequests"] <= 4.5
    assert report["fixedRequests"]["sqs.ReceiveMessage"] > 0  # the empty long polls
    # put 1 + owner index 1 + start 1 + finish 1; a refused start bills 1 (no item yet).
    assert per_job["dynamodbWriteUnits"] == round((4 * JOBS + refused) / JOBS, 4)
    assert report["dollarsPerMillionJobs"]["total"] < 5
    fixed = report["fixedPerHour"]
    assert fixed["sqsRequests"] > 0 and fixed["meterWrites"] > 0 and fixed["snsRequests"] > 0
    assert report["fixedDollarsPerHour"]["total"] > 0
    assert "sqs.GetQueueUrl" in report["fixedRequests"]
    # The jobs' sends are per job; the workers' replies to Flower's inspect are fixed.
    sends = report["requests"]["sqs.SendMessage"] - report["fixedRequests"].get("sqs.SendMessage", 0)
    assert sends == JOBS
    units = report["capacityUnits"]
    assert units["job"]["writeComputed"] == units["job"]["writeBilled"]  # moto: computed
    assert set(report["roles"]) >= {"api", "worker", "worker-main", "flower", "bootstrap"}


def test_the_report_covers_a_chosen_window(run):
    assert run["live"]["windowSeconds"] == 3600
    narrow = run["narrow"]
    assert narrow["windowSeconds"] == 60
    assert narrow["coveredSeconds"] <= 60
    assert run["bad"].status_code == 422
    assert run["bad"].headers["content-type"].startswith("application/problem+json")



def test_every_process_may_write_its_meter(run):
    """Flower and the bootstrap now write meters, the API Queries them: their policies say so
    (test_iam checks the full flows; this run covers the meters' calls of every role)."""
    meter_calls = {c for c in run["calls"] if "BatchLabMeters" in c.resource}
    assert {c.role for c in meter_calls} == {"api", "worker", "flower", "bootstrap"}
    denied = sorted(f"{c.role}: {c.action} on {c.resource}" for c in run["calls"]
                    if not allows(load_policy(c.role), c))
    assert not denied, "not allowed by deploy/iam/<role>.json:\n" + "\n".join(denied)
