"""The README's run command: scripts/run brings the whole stack up and Ctrl-C takes it down."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from core.devstack import ROOT, free_port, wait_for


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def run_command(tmp_path_factory):
    ports = {name: str(free_port()) for name in ("API_PORT", "FLOWER_PORT", "MOTO_SQS_PORT",
                                                  "MOTO_DYNAMODB_PORT", "WORKER_METRICS_PORT")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BATCHLAB_"))}
    log = (tmp_path_factory.mktemp("run") / "run.log").open("wb")
    proc = subprocess.Popen([str(ROOT / "scripts" / "run")], cwd=ROOT, env={**env, **ports},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc, {k: int(v) for k, v in ports.items()}, log.name
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        # The runner starts each process in a session of its own: clean those up too.
        for pid in re.findall(r"started \w+ \(pid (\d+)\)", open(log.name).read()):
            try:
                os.killpg(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def test_run_then_curl_a_job_then_ctrl_c(run_command):
    proc, ports, log_path = run_command
    api = f"http://127.0.0.1:{ports['API_PORT']}"

    def ready() -> bool:
        assert proc.poll() is None, open(log_path).read()[-3000:]
        return httpx.get(f"{api}/readyz", timeout=2).status_code == 200

    wait_for(ready, timeout=180, what="scripts/run to be ready", every=0.5)
    job = httpx.post(f"{api}/api/jobs", json={
        "name": "hello", "type": "sha256", "payload": {"text": "hello world"}, "ownerId": "alice"})
    assert job.status_code == 202
    done = wait_for(
        lambda: (j := httpx.get(f"{api}/api/jobs/{job.json()['id']}").json())["status"] == "COMPLETED" and j,
        timeout=60, what="the job to complete",
    )
    assert done["result"]["sha256"].startswith("b94d27b9934d3e08")
    assert "<app-root" in httpx.get(f"{api}/").text  # the web app is served at /
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{ports['FLOWER_PORT']}/healthcheck",
                               timeout=2).status_code == 200, timeout=60, what="Flower")
    worker_metrics = httpx.get(f"http://127.0.0.1:{ports['WORKER_METRICS_PORT']}/metrics").text
    assert 'batchlab_jobs_finished_total{status="COMPLETED",type="sha256"} 1.0' in worker_metrics

    # Ctrl-C while a job runs (issue 12, item 14): the worker gets its grace, moto
    # outlives it, so the job completes; then everything exits.
    running = httpx.post(f"{api}/api/jobs", json={
        "name": "long", "type": "simulate", "payload": {"durationSeconds": 15, "steps": 15},
        "ownerId": "alice"}).json()
    wait_for(lambda: httpx.get(f"{api}/api/jobs/{running['id']}").json()["status"] == "PROCESSING",
             timeout=30, what="the job to start")
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    proc.wait(timeout=120)
    for port in ports.values():
        wait_for(lambda p=port: not port_open(p), timeout=30, what=f"port {port} to close")
    log = open(log_path).read()
    assert f"job {running['id']} completed" in log, log[-3000:]
    assert "SIGKILL" not in log, log[-3000:]
    # The worker stopped before moto did, and nothing is left running.
    assert log.index("stopping worker") < log.index(f"job {running['id']} completed")
    assert log.index("worker stopped") < log.index("stopping dynamodb") < log.index("stopping sqs")
    started = [int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)\)", log)]
    assert len(started) == 5
    assert not leftovers(started)


def leftovers(groups: list[int]) -> list[int]:
    """Live processes in the process groups the run command started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) in groups:  # state, ppid, pgrp
            found.append(int(stat.parent.name))
    return found
