"""Flower over SQS (tasks/events_sqs.py) with real processes: moto, API, worker, Flower.

Celery events travel over SNS fanout to Flower's SQS queue; remote control (pidbox) too.
Each module gets its own moto with its request recorder on, so SNS/SQS calls are counted
exactly (``MotoRecorder``) and queue/subscription counts are not disturbed by other tests.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import boto3
import httpx
import pytest

from core.devstack import BIN, ROOT, Service, Stack, wait_for

AUTH = ("flower-admin", "flower-test-password")
DEADLINE = 60


# ----------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Call:
    """One recorded request; a PublishBatch is one Call per message, sharing ``request``."""

    service: str  # "sqs" | "sns" | other
    action: str
    target: str  # SQS queue name or SNS topic name
    routing_key: str | None = None  # of a published Celery event
    request: int = 0  # index of the HTTP request in the recording


PUBLISH = ("Publish", "PublishBatch")


def sns_requests(calls: list[Call]) -> int:
    """SNS publish requests (what SNS bills), however many messages each carried."""
    return len({c.request for c in calls if c.service == "sns" and c.action in PUBLISH})


class MotoRecorder:
    """moto's request recorder (``/moto-api/recorder``): every request, from every process."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def _post(self, what: str) -> None:
        httpx.post(f"{self.endpoint}/moto-api/recorder/{what}", timeout=30).raise_for_status()

    def start(self) -> None:
        self._post("reset-recording")
        self._post("start-recording")

    def reset(self) -> None:
        self._post("reset-recording")

    def calls(self) -> list[Call]:
        text = httpx.get(f"{self.endpoint}/moto-api/recorder/download-recording", timeout=30).text
        calls = []
        for index, line in enumerate(text.splitlines()):
            try:
                calls += self._parse(json.loads(line), index)
            except ValueError:
                continue  # two threads wrote at once: rare, and only undercounts
        return calls

    @staticmethod
    def _parse(entry: dict, index: int) -> list[Call]:
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode(errors="replace")
        target_header = headers.get("x-amz-target", "")
        if target_header.startswith("AmazonSQS."):
            params = json.loads(body or "{}")
            queue = params.get("QueueUrl", params.get("QueueName", "")).rsplit("/", 1)[-1]
            return [Call("sqs", target_header.split(".", 1)[1], queue, request=index)]
        form = {k: v[0] for k, v in parse_qs(body).items()}
        action = form.get("Action", "")
        topic = form.get("TopicArn", form.get("Name", "")).rsplit(":", 1)[-1]
        service = "sns" if "sns" in headers.get("authorization", "") else "other"
        if action == "Publish":
            bodies = [form["Message"]]
        elif action == "PublishBatch":
            bodies = [v for k, v in sorted(form.items())
                      if k.startswith("PublishBatchRequestEntries.member.") and k.endswith(".Message")]
        else:
            return [Call(service, action, topic, request=index)]
        return [Call(service, action, topic, routing_key(b), request=index) for b in bodies]


def routing_key(message: str) -> str:
    return json.loads(message)["properties"]["delivery_info"]["routing_key"]


@dataclass
class Site:
    stack: Stack
    api: httpx.Client
    flower: Service
    flower_url: str
    recorder: MotoRecorder
    worker: Service | None = None
    worker_name: str = ""

    def aws(self, service: str):
        return boto3.client(service, endpoint_url=self.stack.env["AWS_ENDPOINT_URL"],
                            region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    def flower_get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.flower_url + path, auth=AUTH, timeout=30, **kwargs)

    def submit(self, n: int, text: str = "flower") -> list[str]:
        ids = []
        for i in range(n):
            body = {"name": f"flower {i}", "type": "sha256", "payload": {"text": f"{text} {i}"},
                    "ownerId": "flower-test"}
            resp = self.api.post("/api/jobs", json=body)
            assert resp.status_code == 202, resp.text
            ids.append(resp.json()["id"])
        return ids

    def wait_completed(self, ids: list[str]) -> None:
        for job_id in ids:
            def done(job_id=job_id) -> bool:
                return self.api.get(f"/api/jobs/{job_id}").json()["status"] == "COMPLETED"
            wait_for(done, timeout=DEADLINE, what=f"job {job_id} to complete", every=0.1)

    def flower_workers(self) -> dict[str, dict]:
        resp = self.flower_get("/workers", params={"json": 1})
        resp.raise_for_status()
        return {w["hostname"]: w for w in resp.json()["data"]}

    def wait_worker_status(self, name: str, online: bool) -> dict:
        def seen() -> dict | None:
            worker = self.flower_workers().get(name)
            return worker if worker is not None and worker["status"] is online else None
        return wait_for(seen, timeout=DEADLINE, what=f"Flower to show {name} online={online}",
                        every=0.2)

    def flower_tasks_for(self, ids: list[str]) -> dict[str, dict]:
        """Wait until Flower lists a SUCCESS task for each job id; {job id: task}."""
        def found() -> dict[str, dict] | None:
            resp = self.flower_get("/api/tasks")
            resp.raise_for_status()
            by_job = {}
            for task in resp.json().values():
                for job_id in ids:
                    if job_id in (task.get("args") or "") and task["state"] == "SUCCESS":
                        by_job[job_id] = task
            return by_job if len(by_job) == len(ids) else None
        return wait_for(found, timeout=DEADLINE, what="Flower to show the tasks", every=0.2)

    def flower_task(self, job_id: str, state: str, *, newer_than: float | None = None) -> dict:
        """Wait until Flower's /api/task/info/<JobId> shows ``state`` (and a newer event)."""
        def seen() -> dict | None:
            resp = self.flower_get(f"/api/task/info/{job_id}")
            task = resp.json() if resp.status_code == 200 else None
            if not task or task["state"] != state:
                return None
            return task if newer_than is None or (task["timestamp"] or 0) > newer_than else None
        return wait_for(seen, timeout=DEADLINE, what=f"Flower to show {job_id} {state}",
                        every=0.2)

    def wait_worker_counts(self, name: str, at_least: dict[str, int]) -> dict:
        """Wait until Flower's event counters for worker ``name`` reach ``at_least``."""
        def reached() -> dict | None:
            worker = self.flower_workers().get(name) or {}
            return worker if all(worker.get(k, 0) >= v for k, v in at_least.items()) else None
        return wait_for(reached, timeout=DEADLINE, what=f"{name}'s counters {at_least}",
                        every=0.2)

    def jobs_queue_depth(self) -> int:
        """Messages in the jobs queue, visible or in flight (Approximate*, exact on moto)."""
        sqs = self.aws("sqs")
        url = sqs.get_queue_url(QueueName="batchlab-jobs")["QueueUrl"]
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes[n]) for n in names)

    def send_message(self, job_id: str) -> None:
        """Send the job's message again, as SQS may deliver it twice."""
        subprocess.run(
            [sys.executable, "-c", f"from tasks import enqueue_job; enqueue_job({job_id!r})"],
            cwd=ROOT, env=self.stack.env, check=True, timeout=60,
        )

    def inventory(self) -> tuple[list[str], list[tuple[str, str, str]]]:
        """SQS queue names and SNS subscriptions (topic, queue, arn), sorted."""
        urls = self.aws("sqs").list_queues().get("QueueUrls", [])
        subs = self.aws("sns").list_subscriptions()["Subscriptions"]
        return (
            sorted(url.rsplit("/", 1)[-1] for url in urls),
            sorted((s["TopicArn"].rsplit(":", 1)[-1], s["Endpoint"].rsplit(":", 1)[-1],
                    s["SubscriptionArn"]) for s in subs),
        )


def worker_name(worker: Service) -> str:
    """The node name a worker logged in its "<name> ready." line."""
    for line in worker.log().splitlines():
        if line.endswith(" ready."):
            return line.rsplit(" ", 2)[-2]
    raise AssertionError(f"{worker.name} never logged ready")


def kind(call: Call) -> str:
    """"sqs events" (an event queue), "sqs pidbox", "sqs reply", "sqs jobs", "sns <topic>"."""
    if call.service == "sns":
        return f"sns {call.target}"
    for what in ("events", "pidbox", "reply"):
        if call.target.startswith(f"batchlab-{what}-"):
            return f"sqs {what}"
    return f"{call.service} jobs" if call.target.startswith("batchlab-jobs") else call.service


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


def events_queue(queues: list[str], port: str) -> str | None:
    """The event queue of the Flower on ``port`` (``batchlab-events-flower-<node>-<port>``)."""
    found = [q for q in queues if q.startswith("batchlab-events-flower-") and q.endswith(f"-{port}")]
    return found[0] if len(found) == 1 else None


def subscribed(subscriptions: list[tuple[str, str, str]]) -> set[str]:
    return {queue for _, queue, _ in subscriptions}


def pairs(subscriptions: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """(topic, queue) of each subscription; ARNs change when a queue is subscribed again."""
    return {(topic, queue) for topic, queue, _ in subscriptions}


def add_logs_if_failed(request, stack: Stack, failed_before: int) -> None:
    """For tests on their own stack (conftest prints logs only for the `stack` fixture)."""
    if request.session.testsfailed > failed_before:
        for service in stack.services:
            request.node.add_report_section("call", f"log {service.name}", service.log()[-4000:])


# ----------------------------------------------------------------- events switched off


def test_with_events_disabled_nothing_is_published_and_no_event_queues_exist(log_dir, request):
    """BATCHLAB_EVENTS_ENABLED=false: jobs run as before, with no SNS call at all."""
    failed_before = request.session.testsfailed
    stack = Stack(log_dir / "events-off", extra_env={
        "BATCHLAB_EVENTS_ENABLED": "false",
        "MOTO_RECORDER_FILEPATH": str(log_dir / "events-off" / "moto-recording.jsonl"),
    })
    try:
        stack.start_moto()
        recorder = MotoRecorder(stack.env["AWS_ENDPOINT_URL"])
        recorder.start()
        _, api_url = stack.start_api()
        worker = stack.start_worker()
        site = Site(stack, httpx.Client(base_url=api_url, timeout=30), worker, "", recorder)
        site.wait_completed(site.submit(3, "quiet"))
        site.api.close()

        calls = recorder.calls()
        assert [c for c in calls if c.service == "sns"] == []
        assert {c.target for c in calls if c.service == "sqs" and c.target} <= {
            "batchlab-jobs", "batchlab-jobs-dlq"}
        queues, subscriptions = site.inventory()
        assert queues == ["batchlab-jobs", "batchlab-jobs-dlq"]
        assert subscriptions == []
        assert site.aws("sns").list_topics()["Topics"] == []
        assert "task events: OFF" in worker.log()
        assert "tasks.events_sqs:Transport" not in worker.log()
    finally:
        add_logs_if_failed(request, stack, failed_before)
        stack.stop_all()


# ------------------------------------------------------------------- events switched on


@pytest.fixture(scope="module")
def stack(log_dir: Path):
    """A clean moto for this module (overrides the session stack), Flower auth on."""
    stack = Stack(log_dir / "flower", extra_env={
        "BATCHLAB_FLOWER_USER": AUTH[0],
        "BATCHLAB_FLOWER_PASSWORD": AUTH[1],
        "MOTO_RECORDER_FILEPATH": str(log_dir / "flower" / "moto-recording.jsonl"),
    })
    try:
        stack.start_moto()
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture(scope="module")
def site(stack: Stack):
    recorder = MotoRecorder(stack.env["AWS_ENDPOINT_URL"])
    recorder.start()
    _, api_url = stack.start_api()
    worker = stack.start_worker()
    flower, flower_url = stack.start_flower()
    with httpx.Client(base_url=api_url, timeout=30) as api:
        site = Site(stack, api, flower, flower_url, recorder, worker, worker_name(worker))
        # Online in Flower = its event queue is subscribed and receiving heartbeats.
        site.wait_worker_status(site.worker_name, online=True)
        yield site


def test_flower_api_needs_the_password(site):
    assert httpx.get(site.flower_url + "/api/tasks", timeout=30).status_code == 401
    assert httpx.get(site.flower_url + "/api/tasks", auth=(AUTH[0], "wrong"),
                     timeout=30).status_code == 401
    assert site.flower_get("/api/tasks").status_code == 200


def test_flower_shows_the_worker_online_and_each_task_with_its_job_id(site):
    ids = site.submit(3)
    site.wait_completed(ids)
    tasks = site.flower_tasks_for(ids)
    for job_id, task in tasks.items():
        assert task["name"] == "batchlab.run_job"
        assert task["state"] == "SUCCESS"
        assert task["args"] == repr([job_id])
        assert task["worker"] == site.worker_name
        assert task["runtime"] is not None and task["runtime"] > 0
        assert task["received"] and task["started"] and task["succeeded"]
        assert task["sent"] is None  # no task-sent event: see celeryconfig.py
    worker = site.wait_worker_status(site.worker_name, online=True)
    assert worker["task-succeeded"] >= 3
    # The heartbeat interval itself (one every 2 s) is checked by the events-cost test;
    # Flower's "freq" is the last worker event's, which need not be a heartbeat.
    assert worker["freq"] > 0


def test_a_failed_job_is_one_task_named_by_its_job_id_retried_then_failure(site):
    """Issue 12 item 12: FAILED is a FAILURE with the job's error, its attempts RETRYs of one
    task whose uuid is the JobId, and the failed message is deleted, not redelivered."""
    before = site.flower_workers().get(site.worker_name, {})
    body = {"name": "always fails", "type": "simulate", "ownerId": "flower-test",
            "payload": {"durationSeconds": 0, "failureProbability": 1}}
    resp = site.api.post("/api/jobs", json=body)
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["id"]

    def failed() -> dict | None:
        job = site.api.get(f"/api/jobs/{job_id}").json()
        return job if job["status"] == "FAILED" else None

    job = wait_for(failed, timeout=DEADLINE, what=f"job {job_id} to fail", every=0.2)
    assert job["attempts"] == job["maxAttempts"] == 3
    task = site.flower_task(job_id, "FAILURE")
    assert task["uuid"] == job_id and task["args"] == repr([job_id])
    assert job["error"] in task["exception"] and "JobFailed" in task["exception"]
    assert task["retried"] is not None  # the first two attempts were RETRYs of it
    assert task["retries"] == 2  # the third message: two retries of the first
    assert task["worker"] == site.worker_name
    # One task for the job, however many attempts: none under another uuid.
    tasks = site.flower_get("/api/tasks").json()
    assert [t for t in tasks.values() if repr([job_id]) == t.get("args")] == [tasks[job_id]]
    assert job_id in site.flower_get("/api/tasks", params={"state": "FAILURE"}).json()
    after = site.wait_worker_counts(site.worker_name, {
        "task-failed": before.get("task-failed", 0) + 1,
        "task-retried": before.get("task-retried", 0) + 2})
    assert after["task-failed"] >= 1 and after["task-retried"] >= 2
    # Deleted, not left to come back after the visibility timeout (120 s).
    wait_for(lambda: site.jobs_queue_depth() == 0, timeout=DEADLINE,
             what="the failed job's message to be deleted", every=0.5)

    # A duplicate delivery of the FAILED job keeps it a FAILURE (a SUCCESS would win).
    site.send_message(job_id)
    site.worker.wait_log(f"job {job_id} is already FAILED", timeout=DEADLINE)
    again = site.flower_task(job_id, "FAILURE", newer_than=task["failed"])
    assert job["error"] in again["exception"]
    wait_for(lambda: site.jobs_queue_depth() == 0, timeout=DEADLINE,
             what="the duplicate to be deleted", every=0.5)


def test_a_cancelled_job_is_revoked_in_flower(site):
    body = {"name": "cancelled", "type": "simulate", "ownerId": "flower-test",
            "payload": {"durationSeconds": 30, "steps": 30}}
    job_id = site.api.post("/api/jobs", json=body).json()["id"]
    site.flower_task(job_id, "STARTED")
    assert site.api.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    task = site.flower_task(job_id, "REVOKED")
    assert task["uuid"] == job_id


def test_remote_control_inspect_ping_and_flower_worker_details(site):
    ping = subprocess.run(
        [str(BIN / "celery"), "-A", "tasks", "inspect", "ping", "--timeout", "10"],
        cwd=ROOT, env=site.stack.env, capture_output=True, text=True, timeout=120,
    )
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert f"{site.worker_name}: OK" in ping.stdout and "pong" in ping.stdout

    def details() -> dict | None:
        params = {"refresh": 1, "workername": site.worker_name}
        resp = site.flower_get("/api/workers", params=params)
        info = resp.json().get(site.worker_name) if resp.status_code == 200 else None
        return info if info and "stats" in info and "registered" in info else None

    info = wait_for(details, timeout=DEADLINE, what="Flower's worker details", every=0.5)
    assert info["stats"]["pool"]["max-concurrency"] == 1
    assert "batchlab.run_job" in info["registered"]


def test_a_flower_restart_leaves_no_queue_or_subscription_behind(site):
    """A clean stop unsubscribes Flower's event queue and keeps it; a restart on the same port,
    or after a kill -9, takes the same queues over (issue 12, item 15)."""
    port = port_of(site.flower_url)

    def settled():
        queues, subscriptions = site.inventory()
        if events_queue(queues, port) and any(
                q.startswith("batchlab-reply-flower-") and q.endswith(f"-{port}") for q in queues):
            return queues, subscriptions
        return None

    before = wait_for(settled, timeout=DEADLINE, what="Flower's queues")
    queue = events_queue(before[0], port)
    assert queue in subscribed(before[1])
    site.flower.stop()
    queues, subscriptions = site.inventory()
    assert queue in queues and queue not in subscribed(subscriptions)  # unsubscribed at exit

    for stop in ("term", "kill -9"):
        if stop == "kill -9":
            site.flower.signal_group(signal.SIGKILL)  # no exit handler: the subscription stays
            site.flower.proc.wait(timeout=30)
        site.flower, site.flower_url = site.stack.start_flower(port=port)
        # The new Flower knows nothing yet: seeing the worker online proves its events flow.
        site.wait_worker_status(site.worker_name, online=True)
        ids = site.submit(1, f"after {stop}")
        site.wait_completed(ids)
        site.flower_tasks_for(ids)
        after = site.inventory()
        assert after[0] == before[0]
        assert pairs(after[1]) == pairs(before[1])

    queues, subscriptions = site.inventory()
    assert not [q for q in queues if q.startswith("celeryev")]
    assert sorted(q for q in queues if q.startswith("batchlab-events-")) == [
        q for q in queues if q.startswith("batchlab-events-flower-")]
    assert len(subscriptions) == len(pairs(subscriptions))


def test_two_flowers_on_one_host_each_see_every_task_and_share_no_queue(site):
    """Issue 12 item 15: two Flowers on one host each get every event (their own queue, named
    after their port); a third on a port whose Flower runs is refused, saying why."""
    second, second_url = site.stack.start_flower()
    try:
        other = dataclasses.replace(site, flower=second, flower_url=second_url)
        other.wait_worker_status(site.worker_name, online=True)
        ids = site.submit(10, "two flowers")
        site.wait_completed(ids)
        for flower in (site, other):  # every task's task-succeeded reached both
            assert set(flower.flower_tasks_for(ids)) == set(ids)

        port = port_of(second_url)
        third = site.stack.spawn("flower", [
            str(BIN / "celery"), "-A", "tasks", "flower", "--address=127.0.0.1", f"--port={port}"])
        assert third.proc.wait(timeout=60) != 0
        assert f"(pid {second.pid}) already reads SQS queue batchlab-events-flower-" in third.log()
        assert "another --port" in third.log()
        assert other.flower_get("/healthcheck").status_code == 200  # undisturbed
    finally:
        second.stop()
    queues, subscriptions = site.inventory()
    assert events_queue(queues, port) not in subscribed(subscriptions)
    assert events_queue(queues, port_of(site.flower_url)) in subscribed(subscriptions)


def test_events_cost_per_task_and_per_worker_minute(site, capsys):
    """Count SNS publishes and event-caused SQS calls with moto's recorder; print them."""
    n = 10

    def startup_inspection_done() -> bool:  # Flower inspects workers once when it starts
        info = site.flower_get("/api/workers").json().get(site.worker_name) or {}
        return {"stats", "registered", "conf", "active_queues"} <= set(info)

    wait_for(startup_inspection_done, timeout=DEADLINE, what="Flower's startup inspection")
    site.recorder.reset()
    ids = site.submit(n, "cost")
    site.wait_completed(ids)
    site.flower_tasks_for(ids)
    calls = site.recorder.calls()
    publishes = Counter(c.routing_key for c in calls if c.action in PUBLISH)
    requests = sns_requests(calls)
    producer = publishes["task.sent"]
    worker_task = publishes["task.multi"] + sum(
        v for k, v in publishes.items() if k and k.startswith("task.") and k not in (
            "task.sent", "task.multi"))
    window_heartbeats = publishes["worker.heartbeat"]
    flower_calls = Counter(c.action for c in calls if kind(c) == "sqs events")

    # Heartbeats: wait (on a condition, not a clock) until 15 were published.
    site.recorder.reset()
    started = time.monotonic()

    def beats() -> list[Call] | None:
        calls = site.recorder.calls()
        hb = [c for c in calls if c.routing_key == "worker.heartbeat"]
        return calls if len(hb) >= 15 else None

    idle_calls = wait_for(beats, timeout=90, what="15 heartbeats", every=0.5)
    minutes = (time.monotonic() - started) / 60
    heartbeats = sum(1 for c in idle_calls if c.routing_key == "worker.heartbeat")
    per_request = {c.request: c for c in idle_calls}.values()  # a PublishBatch counts once
    idle = Counter(f"{kind(c)} {c.action}" for c in per_request)

    report = {
        "tasks": n,
        "per task: SNS Publish by the producer (task-sent, off)": producer / n,
        "per task: events published by the worker (received, started, succeeded)": worker_task / n,
        "per task: SNS requests (PublishBatch, up to 10 events each)": requests / n,
        "task window: SQS calls on Flower's event queue": dict(flower_calls),
        "task window: heartbeat publishes among them": window_heartbeats,
        "heartbeat publishes per worker-minute": round(heartbeats / minutes, 1),
        "heartbeat publishes per worker-day": round(heartbeats / minutes * 60 * 24),
        "idle calls per minute (1 worker, 1 Flower)": {
            k: round(v / minutes, 1) for k, v in sorted(idle.items())},
    }
    with capsys.disabled():
        print("\nevents cost:", json.dumps(report, indent=1))
    assert producer == 0  # the API sends no task-sent event (celeryconfig.py)
    assert 0 < worker_task <= 3 * n
    assert {c.action for c in calls if c.service == "sns" and c.routing_key} == {"PublishBatch"}
    assert requests < worker_task + window_heartbeats  # batched: fewer requests than events
    # Flower deletes what one receive brought with one request (DeleteMessageBatch).
    deletes = flower_calls["DeleteMessage"] + flower_calls["DeleteMessageBatch"]
    assert deletes <= flower_calls["ReceiveMessage"] < worker_task + window_heartbeats
    assert 20 <= heartbeats / minutes <= 40  # one every 2 s


def test_a_stopped_worker_flushes_its_last_events(site):
    """At exit the pending batch goes out (worker-offline), not after its wait: the wait is
    set to the maximum, 5 s, longer than the worker takes to exit after sending it."""
    worker = site.stack.start_worker({"BATCHLAB_EVENTS_BATCH_SECONDS": "5"})
    name = worker_name(worker)
    site.wait_worker_status(name, online=True)
    site.recorder.reset()
    worker.stop(timeout=60)

    offline = [c for c in site.recorder.calls() if c.routing_key == "worker.offline"]
    assert [c.action for c in offline] == ["PublishBatch"]
    assert site.wait_worker_status(name, online=False)["status"] is False


def test_flower_shows_a_killed_worker_offline_by_its_missing_heartbeats(site):
    site.worker.signal_group(signal.SIGKILL)
    site.worker.proc.wait(timeout=30)
    worker = site.wait_worker_status(site.worker_name, online=False)
    assert worker["status"] is False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
