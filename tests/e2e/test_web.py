"""The web app in a real Chromium (Debian's package) against the real local stack.

Screenshots go to a temporary directory, or with BATCHLAB_SCREENSHOTS=1 to
docs/screenshots/ (the README shows them), so a plain test run leaves the tree as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("BATCHLAB_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="batchlab-screenshots-"))
)

def set_owner(page, owner: str) -> None:
    page.get_by_test_id("owner-id").fill(owner)
    page.get_by_test_id("owner-save").click()


def submit(page, *, name: str, type_: str, knobs: dict[str, str] | None = None,
           payload: str | None = None) -> str:
    page.goto(f"{page.base}/new")
    page.get_by_test_id("job-type").select_option(type_)
    page.get_by_test_id("job-name").fill(name)
    for test_id, value in (knobs or {}).items():
        page.get_by_test_id(test_id).fill(value)
    if payload is not None:
        page.get_by_test_id("job-payload").fill(payload)
    page.get_by_test_id("submit-job").click()
    page.wait_for_url("**/jobs/*")
    return page.url.rsplit("/", 1)[1]


def test_submit_watch_and_list(live, page):
    page.base = live.api_url
    owner = f"web-{uuid.uuid4().hex[:6]}"
    page.goto(f"{live.api_url}/new")
    set_owner(page, owner)

    # Client-side validation mirrors the API: a bad payload is refused before submitting.
    page.get_by_test_id("job-type").select_option("sha256")
    page.get_by_test_id("job-name").fill("bad payload")
    page.get_by_test_id("job-payload").fill("{not json")
    page.get_by_test_id("submit-job").click()
    page.get_by_test_id("error-payload").wait_for()
    assert page.url.endswith("/new")
    page.get_by_test_id("job-payload").fill('{"text": "hello from the browser"}')
    page.screenshot(path=SHOTS / "submit-form.png", full_page=True)

    ok_id = submit(page, name="hash it", type_="sha256",
                   payload='{"text": "hello from the browser"}')
    badge = page.get_by_test_id("job-status")
    badge.filter(has_text="COMPLETED").wait_for(timeout=30_000)
    assert "2aa0" in page.get_by_test_id("job-result").inner_text() or "sha256" in page.get_by_test_id(
        "job-result").inner_text()
    assert page.get_by_test_id("job-id").inner_text().strip() == ok_id
    page.get_by_test_id("job-timeline").get_by_test_id("timeline-entry").nth(2).wait_for()
    page.screenshot(path=SHOTS / "status-completed.png", full_page=True)
    # Issue 13: the result downloads as a JSON file.
    with page.expect_download() as download:
        page.get_by_test_id("download-result").click()
    assert download.value.suggested_filename == f"{ok_id}-result.json"
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["bytes"] == len("hello from the browser")

    bad_id = submit(page, name="doomed", type_="simulate",
                    knobs={"sim-duration": "0", "sim-failure": "1", "sim-steps": "1"})
    page.get_by_test_id("job-status").filter(has_text="FAILED").wait_for(timeout=90_000)
    error = page.get_by_test_id("job-error").inner_text()
    assert "gave up after 3 attempts" in error and "simulated failure" in error
    assert page.get_by_test_id("job-attempts").inner_text().replace(" ", "") == "3/3"
    page.screenshot(path=SHOTS / "status-failed.png", full_page=True)

    page.goto(f"{live.api_url}/jobs")
    rows = page.get_by_test_id("job-row")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-job-id") == bad_id
    assert rows.nth(0).get_attribute("data-status") == "FAILED"
    assert rows.nth(1).get_attribute("data-job-id") == ok_id
    assert rows.nth(1).get_attribute("data-status") == "COMPLETED"
    page.screenshot(path=SHOTS / "my-jobs.png", full_page=True)


def test_reloading_a_job_url_serves_the_app(live, page):
    job = live.submit("sha256", {"text": "reload"})
    live.wait_terminal(job["id"])
    page.goto(f"{live.api_url}/jobs/{job['id']}")
    page.get_by_test_id("job-status").filter(has_text="COMPLETED").wait_for()


def test_server_errors_show_next_to_the_field(live, page):
    page.goto(f"{live.api_url}/new")
    set_owner(page, "web-errors")
    page.get_by_test_id("job-type").select_option("simulate")
    page.get_by_test_id("job-name").fill("too long")
    # The API rejects a payload key the form does not know: shown next to the payload.
    page.get_by_test_id("job-payload").fill('{"durationSeconds": 0, "unknown": 1}')
    page.get_by_test_id("submit-job").click()
    page.get_by_test_id("error-payload.unknown").or_(page.get_by_test_id("form-error")).first.wait_for()
    assert "/new" in page.url


def test_queue_panel(live, page):
    page.goto(f"{live.api_url}/queues")
    panel = page.get_by_test_id("queue-panel")
    panel.get_by_test_id("queue-row").first.wait_for()
    roles = sorted(r.get_attribute("data-role") for r in panel.get_by_test_id("queue-row").all())
    assert roles == ["dlq", "jobs"]
    assert page.get_by_test_id("flower-link").get_attribute("href").startswith("http")
    page.screenshot(path=SHOTS / "queue-panel.png", full_page=True)


def test_phone_layout(live, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = context.new_page()
    pg.goto(f"{live.api_url}/new")
    pg.get_by_test_id("job-name").or_(pg.get_by_test_id("owner-required")).first.wait_for()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.screenshot(path=SHOTS / "phone.png", full_page=True)
    context.close()


def test_flower_shows_the_worker_and_the_tasks(live, page):
    import httpx

    from core.devstack import wait_for

    # Flower's /api needs auth or this switch; the web pages do not.
    _, flower = live.stack.start_flower({"FLOWER_UNAUTHENTICATED_API": "true"})

    def online() -> bool:
        workers = httpx.get(f"{flower}/workers", params={"json": 1}, timeout=30).json()["data"]
        return any(w["hostname"].startswith("worker1@") and w["status"] for w in workers)

    # A heartbeat seen means Flower's event queue is subscribed: later events reach it.
    wait_for(online, timeout=60, what="Flower to see the worker online", every=0.5)
    job = live.submit("sha256", {"text": "seen by flower"})
    live.wait_terminal(job["id"])

    def succeeded() -> bool:
        tasks = httpx.get(f"{flower}/api/tasks", timeout=30).json().values()
        return any(job["id"] in (t.get("args") or "") and t["state"] == "SUCCESS" for t in tasks)

    wait_for(succeeded, timeout=60, what="Flower to show the task", every=0.5)
    page.goto(f"{flower}/workers")
    page.get_by_text("worker1@").first.wait_for()
    page.screenshot(path=SHOTS / "flower-workers.png", full_page=True)
    page.goto(f"{flower}/tasks")
    page.get_by_text("batchlab.run_job").first.wait_for()
    page.screenshot(path=SHOTS / "flower-tasks.png", full_page=True)
