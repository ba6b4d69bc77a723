"""Issue 14 in the browser: submit a batch from a JSON Lines or CSV file (uploaded through
the presigned flow), watch it finish on the batch page, download its results, and find it on
"My jobs"; the batch page has no sideways scroll on a laptop or a phone. Debian's Chromium
against the real local stack."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from tests.e2e.test_web import SHOTS, set_owner

pytestmark = pytest.mark.e2e

ITEMS = [{"text": f"line {i} of the batch"} for i in range(24)]
FILES = {
    "jsonl": ("lines.jsonl", "application/x-ndjson", "".join(json.dumps(i) + "\n" for i in ITEMS)),
    "csv": ("lines.csv", "text/csv", "text\n" + "".join(f"{i['text']}\n" for i in ITEMS)),
}
VIEWPORTS = [(1366, 768), (390, 844)]


def no_sideways_scroll(page) -> bool:  # noqa: F811
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_submit_a_batch_from_a_file_watch_it_finish_and_download_its_results(live, page, fmt):  # noqa: F811
    name, mime, content = FILES[fmt]
    owner = f"web-batch-{uuid.uuid4().hex[:6]}"
    page.goto(f"{live.api_url}/batches/new")
    set_owner(page, owner)
    page.get_by_test_id("batch-type").select_option("sha256")
    page.get_by_test_id("batch-name").fill("hash the lines")
    page.get_by_test_id("source-file").check()
    page.get_by_test_id("batch-file").set_input_files(
        {"name": name, "mimeType": mime, "buffer": content.encode()})
    assert name in page.get_by_test_id("file-hint").inner_text()
    assert page.get_by_test_id("batch-format").input_value() == fmt
    page.get_by_test_id("submit-batch").click()
    page.wait_for_url("**/batches/*-*")
    batch_id = page.url.rsplit("/", 1)[1]

    badge = page.get_by_test_id("batch-status")
    page.locator('[data-testid="batch-status"][data-status="COMPLETED"]').wait_for(timeout=60_000)
    assert page.get_by_test_id("count-COMPLETED").locator(".count-value").inner_text() == "24"
    assert page.get_by_test_id("count-FAILED").locator(".count-value").inner_text() == "0"
    assert page.get_by_test_id("batch-progress").get_attribute("aria-valuenow") == "100"
    assert "24 of 24" in page.get_by_test_id("batch-finished").inner_text()
    assert page.get_by_test_id("cancel-batch").count() == 0
    page.get_by_test_id("no-failures").wait_for()
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        assert no_sideways_scroll(page), f"sideways scroll at {width}x{height}"
        page.screenshot(path=SHOTS / f"batch-completed-{fmt}-{width}.png", full_page=True)

    batch = live.http.get(f"/api/batches/{batch_id}").json()
    assert batch["ownerId"] == owner and batch["total"] == 24

    # The results download as JSON Lines, one line per item in item order.
    with page.expect_download() as download:
        page.get_by_test_id("download-results").click()
    assert download.value.suggested_filename == f"{batch_id}-results.jsonl"
    lines = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    assert [line["index"] for line in lines] == list(range(24))
    assert {line["status"] for line in lines} == {"COMPLETED"}
    expected = hashlib.sha256(ITEMS[5]["text"].encode()).hexdigest()
    assert lines[5]["result"]["sha256"] == expected

    # "My jobs" lists the batch, linking to its page.
    page.goto(f"{live.api_url}/jobs")
    row = page.get_by_test_id("batch-row").first
    row.wait_for()
    assert row.get_attribute("data-batch-id") == batch_id
    assert row.get_attribute("data-status") == "COMPLETED"
    assert no_sideways_scroll(page)
    page.screenshot(path=SHOTS / f"my-jobs-batches-{fmt}.png", full_page=True)
    row.click()
    page.wait_for_url(f"**/batches/{batch_id}")
    badge.wait_for()


def test_inline_items_show_refused_lines_and_retry_failed_completes_the_batch(live, page):  # noqa: F811
    owner = f"web-batch-{uuid.uuid4().hex[:6]}"
    page.goto(f"{live.api_url}/batches/new")
    set_owner(page, owner)
    page.get_by_test_id("batch-type").select_option("simulate")
    page.get_by_test_id("batch-name").fill("two fail once")
    items = [{"durationSeconds": 0, "failAttempts": 1 if i in (1, 4) else 0} for i in range(6)]
    # Refused by the schema, last so that the children's indices are the items' (children are
    # numbered densely, over the valid items only).
    items.append({"steps": 0})
    page.get_by_test_id("batch-items").fill(json.dumps(items))
    page.get_by_test_id("submit-batch").click()

    # Accepted with one refused item: the form lists it by line before moving on.
    refused = page.get_by_test_id("invalid-item")
    refused.first.wait_for()
    assert refused.count() == 1 and refused.first.get_attribute("data-line") == "7"
    assert "steps" in refused.first.inner_text()
    page.get_by_test_id("open-batch").click()
    page.wait_for_url("**/batches/*-*")

    ended = '[data-testid="batch-status"][data-status="{}"]'
    page.locator(ended.format("COMPLETED_WITH_FAILURES")).wait_for(timeout=60_000)
    count = lambda status: page.get_by_test_id(f"count-{status}").locator(".count-value").inner_text()  # noqa: E731
    assert (count("COMPLETED"), count("FAILED")) == ("4", "2")
    failures = page.get_by_test_id("failure-row")
    assert sorted(failures.nth(i).get_attribute("data-index") for i in range(failures.count())) == ["1", "4"]
    assert "simulated failure" in failures.first.get_by_test_id("failure-error").inner_text()
    assert page.get_by_test_id("invalid-item").first.get_attribute("data-line") == "7"

    # Retry the failed children from the page: polling resumes and the batch completes.
    page.get_by_test_id("retry-failed").click()
    page.locator(ended.format("COMPLETED")).wait_for(timeout=60_000)
    assert (count("COMPLETED"), count("FAILED")) == ("6", "0")
    page.get_by_test_id("no-failures").wait_for()
