"""The deploy files pass their linters: hadolint (Dockerfile), cfn-lint (the CloudFormation
template) and checkov (both, in one run: it takes seconds to start).

The tools come from scripts/setup --test (.tools/, see deploy/tools/); cfn-lint from the dev
extra. A missing tool is a failure saying how to install it, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
TEMPLATE = ROOT / "deploy" / "cloudformation" / "batchlab.yaml"
TOOLS = ROOT / ".tools"
HADOLINT = TOOLS / "hadolint" / "bin" / "hadolint"
CHECKOV = TOOLS / "checkov-venv" / "bin" / "checkov"


def tool(path: Path) -> str:
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run scripts/setup --test")
    return str(path)


def run(argv: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_hadolint_passes_the_dockerfile():
    found = run([tool(HADOLINT), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)])
    assert found.returncode == 0, f"hadolint findings:\n{found.stdout}{found.stderr}"


def test_cfn_lint_passes_the_template():
    cfn_lint = shutil.which("cfn-lint", path=str(ROOT / ".venv" / "bin")) or shutil.which("cfn-lint")
    if cfn_lint is None:
        pytest.fail("cfn-lint is missing: it is in the dev extra (scripts/setup)")
    # Warnings and informational findings fail too: the template has none.
    found = run([cfn_lint, "--format", "parseable", "--include-checks", "I", "--", str(TEMPLATE)])
    assert found.returncode == 0, f"cfn-lint findings:\n{found.stdout}{found.stderr}"


def test_checkov_passes_the_template_and_the_dockerfile():
    # --skip-download: no network (checkov would fetch guidelines from its vendor's API).
    found = run([tool(CHECKOV), "--skip-download", "--output", "json",
                 "--framework", "cloudformation", "dockerfile",
                 "-f", str(TEMPLATE), "-f", str(DOCKERFILE)], timeout=300)
    try:
        reports = json.loads(found.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov did not report (exit {found.returncode}):\n{found.stdout[-3000:]}"
                    f"{found.stderr[-3000:]}")
    reports = reports if isinstance(reports, list) else [reports]
    kinds = {r["check_type"] for r in reports}
    assert kinds == {"cloudformation", "dockerfile"}, f"checkov scanned {kinds}"
    failed = [
        f"{c['check_id']} {c['check_name']}: {c['resource']} "
        f"({c['file_path']}:{c['file_line_range'][0]})"
        for r in reports for c in r["results"]["failed_checks"]
    ]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports), reports
    # Each suppression says why, in the template (Metadata: checkov: skip: comment).
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    unexplained = [f"{c['check_id']} on {c['resource']}" for c in skipped
                   if len((c.get("check_result", {}).get("suppress_comment") or "").split()) < 5]
    assert not unexplained, f"suppressions without a reason: {unexplained}"
    # Few, on purpose: a new one needs its reason and a second look (then raise this).
    assert len(skipped) <= 12, [f"{c['check_id']} on {c['resource']}" for c in skipped]
    assert found.returncode == 0, found.stderr[-3000:]
