"""schemathesis against the running API's OpenAPI: no 5xx, responses match the schema.

Runs the schemathesis CLI as a user would (its pytest plugin does not load on
pytest 9), with a bounded number of examples per operation.
"""

from __future__ import annotations

import subprocess

from core.devstack import BIN, ROOT

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_api_conforms_to_its_schema(live, tmp_path):
    result = subprocess.run(
        [str(BIN / "schemathesis"), "run", f"{live.api_url}/openapi.json",
         "--checks", CHECKS, "--max-examples", "30", "--request-timeout", "30",
         "--generation-deterministic", "--phases", "examples,coverage,fuzzing",
         "--suppress-health-check", "all"],
        cwd=ROOT, env={**live.stack.env, "NO_COLOR": "1"}, capture_output=True, text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout.lower()
