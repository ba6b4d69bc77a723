"""core/jobs/listing.py's JobFilter: API input to a filter, matching, and what binds a cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.errors import InvalidCursor, InvalidField
from core.jobs.listing import JobFilter, _decode_cursor, _encode_cursor
from core.jobs.status import JobStatus

RAW = {"OwnerId": "alice", "Status": "FAILED", "Type": "sha256", "Name": "Nightly Report",
       "CreatedAt": "2026-11-29T12:00:00.000000Z"}


def test_statuses_repeat_or_come_comma_separated_in_any_case():
    flt = JobFilter.build(owner_id="a", statuses=["failed,QUEUED", " cancelled "])
    assert flt.statuses == {JobStatus.FAILED, JobStatus.QUEUED, JobStatus.CANCELLED}
    with pytest.raises(InvalidField) as bad:
        JobFilter.build(owner_id="a", statuses=["QUEUED,DONE"])
    assert bad.value.field == "status" and "'DONE'" in str(bad.value)


def test_times_become_utc_strings_as_created_at_is_written():
    east = timezone(timedelta(hours=2))
    flt = JobFilter.build(owner_id="a", created_after=datetime(2026, 11, 29, 14, 0, tzinfo=east),
                          created_before=datetime(2026, 11, 29, 13, 0))  # naive: UTC
    assert flt.created_after == "2026-11-29T12:00:00.000000Z"
    assert flt.created_before == "2026-11-29T13:00:00.000000Z"
    with pytest.raises(InvalidField) as bad:
        JobFilter.build(owner_id="a", created_after=datetime(2026, 1, 2, tzinfo=UTC),
                        created_before=datetime(2026, 1, 1, tzinfo=UTC))
    assert bad.value.field == "createdBefore"


def test_matching():
    assert JobFilter(owner_id="alice").matches(RAW)
    assert not JobFilter(owner_id="bob").matches(RAW)
    assert JobFilter(owner_id=None, statuses=frozenset({JobStatus.FAILED})).matches(RAW)
    assert not JobFilter(owner_id=None, type="simulate").matches(RAW)
    assert JobFilter(owner_id=None, name="nightly").matches(RAW)
    assert not JobFilter(owner_id=None, name="report").matches(RAW)
    assert JobFilter(owner_id=None, name="REPORT", name_match="contains").matches(RAW)
    window = JobFilter(owner_id=None, created_after=RAW["CreatedAt"],
                       created_before="2026-11-29T12:00:00.000001Z")
    assert window.matches(RAW)  # after is inclusive, before exclusive
    assert not JobFilter(owner_id=None, created_before=RAW["CreatedAt"]).matches(RAW)


def test_a_cursor_is_bound_to_its_owner_filters_and_order():
    flt = JobFilter(owner_id="alice", type="sha256")
    key = {"JobId": {"S": "j"}, "OwnerId": {"S": "alice"}, "CreatedAt": {"S": RAW["CreatedAt"]}}
    cursor = _encode_cursor(key, flt)
    assert _decode_cursor(cursor, flt) == key
    for other in (JobFilter(owner_id="alice"), JobFilter(owner_id="alice", type="sha256",
                                                         order="oldest"),
                  JobFilter(owner_id="bob", type="sha256")):
        with pytest.raises(InvalidCursor):
            _decode_cursor(cursor, other)
    for junk in ("!!!", "eyJhIjoxfQ", ""):
        with pytest.raises(InvalidCursor):
            _decode_cursor(junk, flt)
