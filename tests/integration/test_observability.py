"""/api/queues, /metrics (API and worker) and /api/cost after a known number of jobs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from core.devstack import Stack, free_port, wait_for
from tests.conftest import Live

CREATED = 5  # sha256 jobs that complete
FAILING = 1  # csv-summary job that fails at once


@pytest.fixture(scope="module")
def olive(tmp_path_factory) -> Iterator[tuple[Live, str]]:
    stack = Stack(tmp_path_factory.mktemp("observability-logs"), extra_env={
        "BATCHLAB_STATS_CACHE_SECONDS": "0",
        "BATCHLAB_METER_FLUSH_SECONDS": "0.5",
    })
    try:
        stack.start_moto()
        _, url = stack.start_api()
        port = free_port()
        prom_dir = tmp_path_factory.mktemp("prom")
        stack.start_worker({"PROMETHEUS_MULTIPROC_DIR": str(prom_dir),
                            "BATCHLAB_WORKER_METRICS_PORT": str(port)})
        with httpx.Client(base_url=url, timeout=30) as http:
            live = Live(stack=stack, api_url=url, http=http)
            ids = [live.submit("sha256", {"text": str(i)}, owner="obs")["id"] for i in range(CREATED)]
            ids.append(live.submit("csv-summary", {"csv": ",\n"}, owner="obs")["id"])
            for job_id in ids:
                live.wait_terminal(job_id)
            yield live, f"http://127.0.0.1:{port}"
    finally:
        stack.stop_all()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample, matched by name and a subset of labels."""
    total = None
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
        if all(found.get(k) == v for k, v in labels.items()):
            total = (total or 0.0) + float(line.rsplit(" ", 1)[1])
    assert total is not None, f"no sample {name} {labels}"
    return total


def test_queue_overview_counts_jobs_and_queues(olive):
    live, _ = olive
    overview = wait_for(
        lambda: (o := live.http.get("/api/queues").json())["queues"][0]["messagesInFlight"] == 0 and o,
        timeout=30, what="the jobs queue to drain",
    )
    assert overview["jobsByStatus"] == {"QUEUED": 0, "PROCESSING": 0, "COMPLETED": CREATED,
                                        "FAILED": FAILING, "CANCELLED": 0}
    assert overview["completedPerSecond"] == round(CREATED / 60, 3)
    assert overview["jobsCounted"] == CREATED + FAILING and overview["truncated"] is False
    roles = {q["role"]: q for q in overview["queues"]}
    assert set(roles) == {"jobs", "dlq"}
    assert roles["jobs"]["name"] == "batchlab-jobs" and roles["jobs"]["messagesVisible"] == 0
    assert roles["dlq"]["messagesVisible"] == 0
    assert overview["flowerUrl"].startswith("http")


def test_api_metrics(olive):
    live, _ = olive
    text = live.http.get("/metrics").text
    assert sample(text, "batchlab_jobs_created_total", type="sha256") == CREATED
    assert sample(text, "batchlab_jobs_created_total", type="csv-summary") == FAILING
    assert sample(text, "batchlab_http_requests_total", method="POST", route="/api/jobs",
                  status="202") == CREATED + FAILING
    assert sample(text, "batchlab_http_request_duration_seconds_count", method="POST",
                  route="/api/jobs") == CREATED + FAILING
    assert sample(text, "batchlab_aws_requests_total", service="sqs",
                  operation="SendMessage") == CREATED + FAILING
    assert sample(text, "batchlab_aws_requests_total", service="dynamodb",
                  operation="PutItem") == CREATED + FAILING
    assert sample(text, "batchlab_queue_messages", queue="batchlab-jobs-dlq", state="visible") == 0


def test_worker_metrics_cover_both_worker_processes(olive):
    _, worker_url = olive
    text = httpx.get(f"{worker_url}/metrics").text
    assert sample(text, "batchlab_jobs_finished_total", type="sha256", status="COMPLETED") == CREATED
    assert sample(text, "batchlab_jobs_finished_total", type="csv-summary", status="FAILED") == FAILING
    assert sample(text, "batchlab_job_duration_seconds_count", type="sha256") == CREATED
    # UpdateItem from the pool child (start + finish per job) ...
    assert sample(text, "batchlab_aws_requests_total", service="dynamodb",
                  operation="UpdateItem") == 2 * (CREATED + FAILING)
    # ... and the main process's kombu calls: async long polls and the acks.
    assert sample(text, "batchlab_aws_requests_total", service="sqs", operation="ReceiveMessage") >= 1
    assert sample(text, "batchlab_aws_requests_total", service="sqs",
                  operation="DeleteMessage") == CREATED + FAILING


def test_cost_report_counts_every_process(olive):
    live, _ = olive
    n = CREATED + FAILING
    report = wait_for(
        lambda: (r := live.http.get("/api/cost").json())["jobsFinished"] == n
        and r["jobsCreated"] == n
        and r["requests"].get("sqs.DeleteMessage") == n and r,
        timeout=90, what="every process's meter to be flushed",
    )
    assert report["jobsCreated"] == CREATED + FAILING
    assert report["processes"] >= 3  # the API, the worker's main process and its pool child
    per_job = report["perJob"]
    assert per_job["dynamodbWriteRequests"] == 3  # PutItem + start + finish
    # Computed from item sizes (moto reports a flat 1.0): put 1 + owner index 1 + 2 updates.
    assert per_job["dynamodbWriteUnits"] == 4
    # Per job: one send, one delete; receives are shared (up to 10 messages each).
    # Start-up calls (GetQueueUrl, ...) weigh heavily on 6 jobs: bench/cost.py measures
    # the steady state.
    assert report["requests"]["sqs.SendMessage"] == n
    assert report["requests"]["sqs.ReceiveMessage"] <= n + 10
    assert per_job["sqsRequests"] > 2
    assert report["requests"]["sqs.SendMessage"] == CREATED + FAILING
    dollars = report["dollarsPerMillionJobs"]
    assert dollars["sqs"] == pytest.approx(per_job["sqsRequests"] * 0.40, abs=1e-3)
    assert dollars["total"] == pytest.approx(
        dollars["sqs"] + dollars["sns"] + dollars["s3"] + dollars["dynamodbWrites"]
        + dollars["dynamodbReads"], abs=1e-3)
    assert report["designModel"]["monthly"]["sqs"] == 103.0
    assert report["prices"]["dynamodbPerMillionWriteUnits"] == 0.625


def test_api_processes_report_one_metrics_view(olive, tmp_path):
    """One uvicorn process per core (uvicorn's WEB_CONCURRENCY) with PROMETHEUS_MULTIPROC_DIR:
    /metrics, whichever process answers, counts the requests of every process."""
    live, _ = olive
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    api, url = live.stack.start_api({"WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(prom_dir)})
    sent = 0

    def both_processes_served() -> bool:
        # A process writes its histogram file on its first HTTP request (HttpMetrics);
        # each request here is a new connection, so either process may accept it.
        nonlocal sent
        for _ in range(5):
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
            sent += 1
        return len(list(prom_dir.glob("histogram_*.db"))) >= 2

    try:
        wait_for(both_processes_served, timeout=60, what="both API processes to serve a request")
        text = httpx.get(f"{url}/metrics", timeout=10).text
        assert sample(text, "batchlab_http_requests_total", method="GET", route="/healthz",
                      status="200") == sent
    finally:
        api.stop()
