"""A team's own job types, loaded through BATCHLAB_JOB_MODULES, run end to end (issue 16).

examples/acme_jobs registers two types with @job_type; the API and a worker are
started with the setting and examples/ on their PYTHONPATH, nothing else: no edit
to core/. They use a queue of their own, so the session's worker (which lacks the
types) never receives their jobs.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import httpx
import pytest

from core.devstack import ROOT, Stack
from tests.conftest import Live

ENV = {
    "BATCHLAB_JOB_MODULES": "acme_jobs",
    "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "examples")]),
    "BATCHLAB_QUEUE_NAME": "batchlab-acme",
    "BATCHLAB_DLQ_NAME": "batchlab-acme-dlq",
    "BATCHLAB_WAIT_TIME_SECONDS": "1",
}


@pytest.fixture(scope="module")
def acme(stack: Stack) -> Iterator[Live]:
    stack.bootstrap(env=ENV)
    api, url = stack.start_api(ENV)
    worker = stack.start_worker(ENV)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            yield Live(stack=stack, api_url=url, http=http)
    finally:
        # Killed, not stopped: nothing of theirs outlives the module (own queue), and a
        # worker's soft shutdown would cost seconds of the suite's budget.
        worker.signal_group(signal.SIGKILL)
        api.stop()


def test_the_api_lists_and_documents_the_teams_types(acme):
    types = {t["type"]: t for t in acme.http.get("/api/job-types").json()}
    assert {"acme-invoice-total", "acme-primes", "sha256"} <= set(types)
    assert types["acme-primes"]["example"] == {"below": 1_000_000}
    # The OpenAPI document's JobCreate has one schema per registered type.
    assert '"acme-invoice-total"' in acme.http.get("/openapi.json").text


def test_both_types_run_end_to_end(acme, owner):
    invoice = acme.submit("acme-invoice-total", {
        "currency": "EUR", "taxRatePercent": 10,
        "lines": [{"description": "bolt", "quantity": 4, "unitPrice": "0.25"}]}, owner=owner)
    primes = acme.submit("acme-primes", {"below": 300_000}, owner=owner)
    done = acme.wait_terminal(invoice["id"])
    assert done["status"] == "COMPLETED", done
    assert done["result"] == {"currency": "EUR", "lines": 1, "subtotal": "1.00", "tax": "0.10",
                              "total": "1.10"}
    done = acme.wait_terminal(primes["id"])
    assert done["status"] == "COMPLETED", done
    assert done["result"] == {"below": 300_000, "count": 25_997, "largest": 299_993}
    assert done["progress"] == 100


def test_the_teams_payload_schema_is_enforced_at_submit(acme, owner):
    resp = acme.http.post("/api/jobs", json={
        "name": "bad", "type": "acme-primes", "payload": {"below": 1}, "ownerId": owner})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"].endswith("below") for e in resp.json()["errors"])
