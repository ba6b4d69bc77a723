"""The OpenAPI document is valid and exact, and the API conforms to it (issue 12, item 9).

schemathesis runs as a user would run it (its CLI: its pytest plugin does not
load on pytest 9), against its own API process on the shared moto. That API
sends to its own queue, which no worker reads: schemathesis now generates valid
jobs (the document says what each type takes), and a `simulate` of 900 s must
not occupy the session's worker.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from core.devstack import BIN, ROOT
from tests.conftest import Live

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,unsupported_method,allow_header_conformance")
OWN_QUEUE = {"BATCHLAB_QUEUE_NAME": "schemathesis-jobs",
             "BATCHLAB_DLQ_NAME": "schemathesis-jobs-dlq",
             # A bulk action without ownerId (open mode) Scans the session's whole table:
             # a small bound keeps each of schemathesis's requests quick.
             "BATCHLAB_BULK_MAX_EXAMINED": "200"}


def test_the_document_is_valid_and_names_every_job_type(live: Live):
    doc = live.http.get("/openapi.json").json()
    validate(doc)  # openapi-spec-validator: structure and every $ref
    schemas = doc["components"]["schemas"]
    types = {t["type"] for t in live.http.get("/api/job-types").json()}
    assert set(schemas["JobCreate"]["discriminator"]["mapping"]) == types
    assert set(schemas["JobType"]["enum"]) == types
    for ref in schemas["JobCreate"]["oneOf"]:
        variant = schemas[ref["$ref"].rsplit("/", 1)[1]]
        assert "ownerId" in variant["required"]  # open mode: the owner is the client's to name
        assert variant["properties"]["payload"]["$ref"].startswith("#/components/schemas/")
    list_owner = next(p for p in doc["paths"]["/api/jobs"]["get"]["parameters"]
                      if p["name"] == "ownerId")
    assert list_owner["required"] is True
    operation_ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    links = doc["paths"]["/api/jobs"]["post"]["responses"]["202"]["links"]
    assert {link["operationId"] for link in links.values()} == {"get_job", "cancel_job", "list_jobs"}
    assert {link["operationId"] for link in links.values()} <= operation_ids


@pytest.fixture(scope="module")
def own_api(live: Live) -> Iterator[str]:
    live.stack.bootstrap(env=OWN_QUEUE)
    _, url = live.stack.start_api(OWN_QUEUE)
    yield url


def test_api_conforms_to_its_schema_with_stateful_links(live: Live, own_api: str, tmp_path):
    started = time.monotonic()
    report = tmp_path / "report.ndjson"
    result = subprocess.run(
        [str(BIN / "schemathesis"), "--config-file", str(Path(__file__).parent / "schemathesis.toml"),
         "run", f"{own_api}/openapi.json",
         "--checks", CHECKS, "--request-timeout", "30",
         "--generation-deterministic", "--phases", "examples,coverage,fuzzing,stateful",
         "--suppress-health-check", "all", "--workers", "1",
         "--report", "ndjson", "--report-ndjson-path", str(report)],
        cwd=ROOT, env={**live.stack.env, "NO_COLOR": "1"}, capture_output=True, text=True,
        timeout=600,
    )
    output = result.stdout[-8000:] + result.stderr[-2000:]
    assert result.returncode == 0, output  # no 5xx, no response off its schema
    assert "No issues found" in result.stdout, output
    # Valid jobs were generated (the document describes them: 202s), and the
    # stateful phase followed the document's own links from a created job.
    events = report.read_text()
    assert '"status_code":202' in events
    for link in ("getJob", "cancelJob", "listJobs"):
        assert f'"POST /api/jobs -> [202] {link} -> ' in events, link
    print(f"schemathesis took {time.monotonic() - started:.0f} s")
