"""Every legal and illegal transition of the pure state machine."""

import itertools

import pytest

from core.jobs.status import (
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    JobStatus,
    advance,
    can_advance,
)

LEGAL = {
    (JobStatus.QUEUED, JobStatus.PROCESSING),
    (JobStatus.QUEUED, JobStatus.CANCELLED),
    (JobStatus.QUEUED, JobStatus.FAILED),
    (JobStatus.PROCESSING, JobStatus.PROCESSING),
    (JobStatus.PROCESSING, JobStatus.COMPLETED),
    (JobStatus.PROCESSING, JobStatus.FAILED),
    (JobStatus.PROCESSING, JobStatus.QUEUED),
    (JobStatus.PROCESSING, JobStatus.CANCELLED),
    (JobStatus.FAILED, JobStatus.QUEUED),
    (JobStatus.CANCELLED, JobStatus.QUEUED),  # a retry (issue 15)
}
ALL_PAIRS = list(itertools.product(JobStatus, JobStatus))


@pytest.mark.parametrize(("current", "new"), sorted(LEGAL))
def test_legal_transition(current, new):
    assert can_advance(current, new)
    assert advance(current, new) is new


@pytest.mark.parametrize(("current", "new"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_illegal_transition(current, new):
    assert not can_advance(current, new)
    with pytest.raises(InvalidTransition) as info:
        advance(current, new)
    assert info.value.current is current and info.value.new is new
    assert current.value in str(info.value) and new.value in str(info.value)


def test_table_matches_the_documented_edges():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL


def test_completed_is_final_and_cancelled_only_retried():
    assert TRANSITIONS[JobStatus.COMPLETED] == frozenset()
    assert TRANSITIONS[JobStatus.CANCELLED] == frozenset({JobStatus.QUEUED})
    assert TERMINAL == {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}


def test_status_is_a_plain_string():
    assert JobStatus("QUEUED") == "QUEUED"
    assert [s.value for s in JobStatus] == ["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]
