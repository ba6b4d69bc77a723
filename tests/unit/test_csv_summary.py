"""csv-summary's streaming summariser: same answers as before, bounded state (issue 13)."""

from __future__ import annotations

import io

import pytest
from pydantic import ValidationError

from core.jobs import job_types
from core.jobs.job_types import REGISTRY, CsvPayload, HandlerError, NullContext, summarise_csv


def summary(text: str) -> dict:
    return summarise_csv(io.StringIO(text, newline=""), NullContext())


def test_numbers_and_text_as_before():
    result = summary("city,temp\nLisbon,21.5\nOslo,4\n\n , \nCairo,30.25\n")
    assert result == {"rows": 3, "columns": [
        {"name": "city", "count": 3, "kind": "text", "distinct": 3},
        {"name": "temp", "count": 3, "kind": "number", "min": 4.0, "max": 30.25,
         "mean": round((21.5 + 4 + 30.25) / 3, 6)},
    ]}


def test_a_column_with_one_word_is_text_and_counts_every_distinct_value():
    result = summary("v\n1\n2\nx\n1\n")
    assert result["columns"] == [{"name": "v", "count": 4, "kind": "text", "distinct": 3}]


def test_quoted_fields_span_lines():
    result = summary('a,b\n"line 1\nline 2",3\n')
    assert result["rows"] == 1 and result["columns"][0]["distinct"] == 1


def test_distinct_values_are_capped(monkeypatch):
    monkeypatch.setattr(job_types, "CSV_DISTINCT_CAP", 5)
    column = summary("v\n" + "".join(f"w{i}\n" for i in range(20)))["columns"][0]
    assert column == {"name": "v", "count": 20, "kind": "text", "distinct": 5,
                      "distinctCapped": True}


def test_columns_over_the_cap_are_counted_not_summarised(monkeypatch):
    monkeypatch.setattr(job_types, "CSV_MAX_COLUMNS", 2)
    result = summary("a,b,c,d\n1,2,3,4\n")
    assert [c["name"] for c in result["columns"]] == ["a", "b"]
    assert result["columnsNotSummarised"] == 2


def test_a_line_too_long_is_refused_not_read(monkeypatch):
    monkeypatch.setattr(job_types, "CSV_MAX_LINE_CHARS", 64)
    with pytest.raises(HandlerError, match="longer than 64"):
        summary("a\n" + "x" * 100 + "\n")


def test_no_header_and_malformed_input_fail_for_good():
    with pytest.raises(HandlerError, match="no header"):
        summary("\n")
    with pytest.raises(HandlerError) as caught:
        summarise_csv(io.TextIOWrapper(io.BytesIO(b"a\n\xff\xfe\n"), encoding="utf-8"),
                      NullContext())
    assert "not UTF-8" in str(caught.value) and not caught.value.retryable


def test_the_payload_is_the_text_or_an_uploaded_key_never_both():
    assert CsvPayload.model_validate({"csv": "a\n1\n"}).object is None
    assert CsvPayload.model_validate({"object": "uploads/o/k/f.csv"}).csv is None
    for bad in ({}, {"csv": "a\n", "object": "uploads/o/k"}, {"object": "jobs/x/payload.json"}):
        with pytest.raises(ValidationError):
            CsvPayload.model_validate(bad)
    assert REGISTRY["csv-summary"].uploads == ("object",)


def test_state_does_not_grow_with_rows():
    """A column keeps at most CSV_DISTINCT_CAP hashes, whatever the rows."""
    column = job_types._Column("v")
    for i in range(job_types.CSV_DISTINCT_CAP + 10):
        column.add(f"value-{i}")
    assert column.capped and column.seen == set()
