"""core/operations/charts.py: log buckets, percentiles, and the per-minute hand-over to
the meter's flush; core.jobs.hot.times_of: the times the API shows on a job."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.jobs.hot import times_of
from core.operations import charts


def test_buckets_are_within_ten_percent_and_merge_by_adding():
    for ms in (1, 7, 60, 999, 12_345, 3_600_000):
        assert abs(charts.bucket_value(charts.bucket(ms)) - ms) <= 0.1 * ms + 1
    assert charts.bucket(0) == 0 and charts.bucket_value(0) == 0
    buckets = {charts.bucket(10): 90, charts.bucket(1000): 10}
    assert charts.percentile(buckets, 0.5) == charts.bucket_value(charts.bucket(10))
    assert charts.percentile(buckets, 0.95) == charts.bucket_value(charts.bucket(1000))
    assert charts.percentile({}, 0.5) is None


def test_a_minute_is_handed_to_the_flush_once_and_kept_until_the_minute_changes():
    charts._recorders.clear()
    assert charts.take(60) is None
    charts.record_wait(owner="a", type_="sha256", wait_ms=50)
    charts.record_finish(owner="a", type_="sha256", completed=True, run_ms=10)
    assert charts.has_pending()
    first = json.loads(charts.take(60, sample_depth=lambda: 7))
    assert not charts.has_pending()
    assert first["d"] == 7 and first["o"]["a"]["sha256"]["c"] == 1
    charts.record_finish(owner="b", type_="simulate", completed=False, run_ms=None)
    second = json.loads(charts.take(60, sample_depth=lambda: 99))  # depth: once a minute
    assert second["d"] == 7 and set(second["o"]) == {"a", "b"}
    assert second["o"]["b"]["simulate"] == {"c": 0, "f": 1, "w": {}, "r": {}}
    assert charts.take(120) is None  # a new minute starts empty


def test_times_of_a_job():
    created = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    raw = {"CreatedAt": "2026-11-29T12:00:00.000000Z", "Status": "QUEUED", "Attempts": 1,
           "FirstStartMs": int(created.timestamp() * 1000) + 250,
           "StartedAt": "2026-11-29T12:00:00.250000Z", "NextAttemptAt": 1_790_000_000}
    times = times_of(raw)
    assert times["queue_wait_ms"] == 250 and times["run_ms"] is None
    assert times["started_attempt"] == 1
    assert times["next_attempt_at"] == datetime.fromtimestamp(1_790_000_000, UTC)
    done = {**raw, "Status": "COMPLETED", "Attempts": 2, "StartedAt": "2026-11-29T12:00:05Z",
            "FinishedAt": "2026-11-29T12:00:06.500000Z"}
    times = times_of(done)
    assert times["run_ms"] == 1500 and times["started_attempt"] == 2
    assert times["next_attempt_at"] is None and times["queue_wait_ms"] == 250
    assert times_of({"CreatedAt": raw["CreatedAt"], "Status": "QUEUED"})["queue_wait_ms"] is None
