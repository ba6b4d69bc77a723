"""Session fixtures: one local stack of real processes (moto, uvicorn, a celery worker)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest

from core.devstack import Stack, wait_for

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


@dataclass
class Live:
    stack: Stack
    api_url: str
    http: httpx.Client

    def aws(self, service: str):
        endpoint = (
            self.stack.env["AWS_ENDPOINT_URL_DYNAMODB"]
            if service == "dynamodb"
            else self.stack.env["AWS_ENDPOINT_URL"]
        )
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def submit(self, type_: str, payload: dict, *, owner: str | None = None, **extra) -> dict:
        body = {"name": f"{type_} test", "type": type_, "payload": payload,
                "ownerId": owner or "tester"}
        resp = self.http.post("/api/jobs", json=body, **extra)
        assert resp.status_code == 202, resp.text
        return resp.json()

    def wait_terminal(self, job_id: str, *, timeout: float = 60) -> dict:
        def terminal() -> dict | None:
            job = self.http.get(f"/api/jobs/{job_id}").json()
            return job if job["status"] in TERMINAL else None

        return wait_for(terminal, timeout=timeout, what=f"job {job_id} to finish", every=0.1)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return Path(os.environ.get("BATCHLAB_TEST_LOGS") or tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="session")
def stack(log_dir: Path) -> Iterator[Stack]:
    stack = Stack(log_dir)
    try:
        stack.start_moto()
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture(scope="session")
def live(stack: Stack) -> Iterator[Live]:
    _, url = stack.start_api()
    stack.start_worker()
    with httpx.Client(base_url=url, timeout=30) as http:
        yield Live(stack=stack, api_url=url, http=http)


@pytest.fixture
def owner() -> str:
    return f"owner-{uuid.uuid4().hex[:8]}"


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed integration test, print the tail of every process log."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "stack" in item.fixturenames:
        stack: Stack = item.funcargs.get("stack") or item.funcargs["live"].stack
        for service in stack.services:
            report.sections.append((f"log {service.name}", service.log()[-4000:]))
