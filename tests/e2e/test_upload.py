"""The New job form uploads a CSV file to S3 (presigned URL, progress bar), the job
reads it from there, and its result downloads from the status page (issue 13), in
Debian's Chromium against the real local stack."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.e2e.test_web import SHOTS, set_owner

pytestmark = pytest.mark.e2e

CSV = "city,temp\nLisbon,21.5\nOslo,4\nCairo,30.25\n" + "".join(
    f"Town{i},{i % 40}\n" for i in range(2000)
)


def test_upload_a_csv_file_in_the_form_watch_the_job_finish_and_download_its_result(live, page):  # noqa: F811
    owner = f"web-up-{uuid.uuid4().hex[:6]}"
    page.goto(f"{live.api_url}/new")
    set_owner(page, owner)
    page.get_by_test_id("job-type").select_option("csv-summary")
    page.get_by_test_id("job-name").fill("uploaded csv")
    page.get_by_test_id("csv-file").set_input_files(
        {"name": "towns.csv", "mimeType": "text/csv", "buffer": CSV.encode()})
    assert "towns.csv" in page.get_by_test_id("file-hint").inner_text()
    assert not page.get_by_test_id("job-payload").is_visible()
    page.get_by_test_id("submit-job").click()
    page.wait_for_url("**/jobs/*")
    job_id = page.url.rsplit("/", 1)[1]
    page.get_by_test_id("job-status").filter(has_text="COMPLETED").wait_for(timeout=60_000)
    assert '"rows": 2003' in page.get_by_test_id("job-result").inner_text().replace("\n", " ") \
        or "2003" in page.get_by_test_id("job-result").inner_text()
    job = live.http.get(f"/api/jobs/{job_id}").json()
    key = job["payload"]["object"]
    assert key.startswith(f"uploads/{owner}/") and key.endswith("/towns.csv")
    assert job["result"]["rows"] == 2003
    # ... and its result downloads as a file from the status page.
    with page.expect_download() as download:
        page.get_by_test_id("download-result").click()
    assert download.value.suggested_filename == f"{job_id}-result.json"
    assert json.loads(Path(download.value.path()).read_text())["rows"] == 2003
    page.screenshot(path=SHOTS / "status-uploaded-csv.png", full_page=True)
