"""Built-in job types, each as a single function."""

import hashlib

import pytest
from pydantic import BaseModel, ValidationError

from core.jobs.job_types import REGISTRY, HandlerError, JobCancelled, NullContext, job_type


def run(name, payload, ctx=None):
    return REGISTRY[name].run(payload, ctx or NullContext())


def test_every_example_validates_and_runs():
    for name, jt in REGISTRY.items():
        if name == "simulate":
            continue
        assert isinstance(run(name, jt.example), dict)


def test_sha256_matches_hashlib():
    assert run("sha256", {"text": "héllo"}) == {
        "sha256": hashlib.sha256("héllo".encode()).hexdigest(),
        "bytes": 6,
    }


def test_text_stats_counts():
    out = run("text-stats", {"text": "A cat. A dog!\nThe cat sleeps."})
    assert out["words"] == 7
    assert out["lines"] == 2
    assert out["sentences"] == 3
    assert out["topWords"][0] == {"word": "a", "count": 2}


def test_csv_summary_numbers_and_text():
    out = run("csv-summary", {"csv": "city,temp\nLisbon,20\nOslo,4\nCairo,30\n"})
    assert out["rows"] == 3
    city, temp = out["columns"]
    assert city == {"name": "city", "count": 3, "kind": "text", "distinct": 3}
    assert temp["kind"] == "number" and temp["min"] == 4 and temp["max"] == 30 and temp["mean"] == 18


def test_csv_without_header_is_a_permanent_error():
    with pytest.raises(HandlerError) as info:
        run("csv-summary", {"csv": ",,\n"})
    assert not info.value.retryable


def test_simulate_failure_is_retryable():
    with pytest.raises(HandlerError) as info:
        run("simulate", {"durationSeconds": 0, "failureProbability": 1})
    assert info.value.retryable


def test_simulate_reports_progress_and_sees_cancel():
    seen = []

    class Ctx:
        def report_progress(self, p):
            seen.append(p)

        def is_cancelled(self):
            return len(seen) >= 2

    with pytest.raises(JobCancelled):
        run("simulate", {"durationSeconds": 0, "steps": 5}, Ctx())
    assert seen == [20, 40]


def test_payload_schema_rejects_extra_and_ranges():
    with pytest.raises(ValidationError):
        run("sha256", {"text": "x", "extra": 1})
    with pytest.raises(ValidationError):
        run("simulate", {"failureProbability": 2})


def test_registering_twice_or_a_bad_example_fails():
    class P(BaseModel):
        n: int

    with pytest.raises(ValueError):
        job_type("sha256", payload=P, example={"n": 1}, description="dup")(lambda p: {})
    with pytest.raises(ValidationError):
        job_type("unit-bad-example", payload=P, example={"n": "x"}, description="bad")(lambda p: {})
    assert "unit-bad-example" not in REGISTRY
