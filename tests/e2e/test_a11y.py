"""Accessibility audit of every page (issue 15), in Debian's Chromium against the real stack.

axe-core (npm devDependency, frontend/node_modules/axe-core) runs on each page of PAGES at
1366x768 in the light scheme and at 390x844 (a phone) in the dark scheme, so both colour
schemes are checked for contrast; a serious or critical violation fails the test. On the
phone, no page may scroll sideways and the header may take at most HEADER_SHARE of the screen.

PAGES is the one list of pages: a new page of the web app gets a line here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.devstack import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
HEADER_SHARE = 0.15  # the header took a quarter of a 390x844 screen before issue 15
VIEWPORTS = {
    "desktop": ({"width": 1366, "height": 768}, "light"),
    "phone": ({"width": 390, "height": 844}, "dark"),
}


@dataclass(frozen=True)
class AuditedPage:
    name: str
    path: str  # `{job}` is the id of a COMPLETED job of the audit's owner
    ready: str  # a test id that shows the page has its data
    then: Callable | None = None  # an interaction that puts the page in the state to audit


def _submit_empty_form(page) -> None:
    page.get_by_test_id("submit-job").click()
    page.get_by_test_id("error-name").wait_for()


def _submit_empty_batch(page) -> None:
    page.get_by_test_id("submit-batch").click()
    page.get_by_test_id("error-name").wait_for()


PAGES = [
    AuditedPage("new job", "/new", "job-name"),
    AuditedPage("new job, errors shown", "/new", "job-name", then=_submit_empty_form),
    AuditedPage("my jobs", "/jobs", "job-row"),
    AuditedPage("job status", "/jobs/{job}", "job-result"),
    AuditedPage("job not found", f"/jobs/{uuid.uuid4()}", "not-found"),
    AuditedPage("malformed job id", "/jobs/not-a-job-id", "not-found"),
    AuditedPage("queues", "/queues", "queue-row"),
    AuditedPage("page not found", "/no/such/page", "not-found"),
    AuditedPage("charts", "/charts", "chart-counts"),
    AuditedPage("dead letters", "/dlq", "dlq-count"),
    AuditedPage("new batch", "/batches/new", "batch-items"),
    AuditedPage("new batch, errors shown", "/batches/new", "batch-items", then=_submit_empty_batch),
    AuditedPage("batch", "/batches/{batch}", "failure-row"),
    AuditedPage("my jobs with batches", "/jobs", "batch-row"),
]


@pytest.fixture(scope="module")
def audited(live) -> dict:
    """An owner with one COMPLETED job and an ended batch with a failed child, so the
    lists, the status page and the batch page have data."""
    owner = f"a11y-{uuid.uuid4().hex[:6]}"
    job = live.submit("sha256", {"text": "audit"}, owner=owner)
    resp = live.http.post("/api/batches", json={
        "name": "audit", "type": "simulate", "ownerId": owner,
        "items": [{"durationSeconds": 0}, {"durationSeconds": 0, "failAttempts": 1}]})
    assert resp.status_code == 202, resp.text
    batch = resp.json()["id"]
    live.wait_terminal(job["id"])
    wait_for(lambda: live.http.get(f"/api/batches/{batch}").json()["status"] != "RUNNING",
             timeout=60, what="the audit batch to end", every=0.2)
    return {"owner": owner, "job": job["id"], "batch": batch}


def _context(browser, viewport: str, owner: str):
    size, scheme = VIEWPORTS[viewport]
    context = browser.new_context(viewport=size, color_scheme=scheme, is_mobile=viewport == "phone")
    context.add_init_script(f"localStorage.setItem('batchlab.ownerId', {json.dumps(owner)})")
    return context


def _serious_violations(page) -> list[str]:
    assert AXE.is_file(), f"{AXE} is missing: `npm ci` in frontend/ installs axe-core"
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("axe.run(document, {resultTypes: ['violations']})"
                               ".then(r => r.violations)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        for v in violations if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_passes_axe_and_fits_the_screen(live, browser, audited, viewport):
    context = _context(browser, viewport, audited["owner"])
    page = context.new_page()
    page.set_default_timeout(30_000)
    size, _ = VIEWPORTS[viewport]
    problems: list[str] = []
    try:
        for audit in PAGES:
            page.goto(live.api_url + audit.path.format(job=audited["job"], batch=audited["batch"]))
            page.get_by_test_id(audit.ready).first.wait_for()
            if audit.then is not None:
                audit.then(page)
            problems += [f"{audit.name}: {v}" for v in _serious_violations(page)]
            if viewport == "phone":
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > size["width"]:
                    problems.append(f"{audit.name}: {width} px wide on a {size['width']} px screen")
                header = page.evaluate("document.querySelector('header').offsetHeight")
                if header > HEADER_SHARE * size["height"]:
                    problems.append(f"{audit.name}: the header is {header} px high")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_focus_follows_navigation_and_lands_on_the_first_error(live, browser, audited):
    context = _context(browser, "desktop", audited["owner"])
    page = context.new_page()
    page.set_default_timeout(30_000)
    focused = "(() => { const e = document.activeElement; return [e.tagName, e.textContent.trim(),"\
              " e.getAttribute('data-testid')]; })()"
    try:
        page.goto(f"{live.api_url}/new")
        page.get_by_test_id("job-name").wait_for()
        page.get_by_test_id("nav-queues").click()
        page.wait_for_function("document.activeElement.tagName === 'H1'")
        assert page.evaluate(focused)[:2] == ["H1", "Queues"]

        page.get_by_test_id("nav-new").click()
        page.wait_for_function("document.activeElement.tagName === 'H1'")
        # A refused submit puts focus on the field to fix, which names its error.
        page.get_by_test_id("job-name").fill("   ")
        page.get_by_test_id("submit-job").click()
        page.wait_for_function("document.activeElement.dataset.testid === 'job-name'")
        name = page.get_by_test_id("job-name")
        assert name.get_attribute("aria-invalid") == "true"
        described = name.get_attribute("aria-describedby").split()
        assert "cannot be only spaces" in page.locator(f"#{described[0]}").inner_text()
    finally:
        context.close()
