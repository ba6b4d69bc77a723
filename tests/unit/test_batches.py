"""The pure parts of batches (issue 14): reading records, counting a group, figures."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from core.batches import counting, layout, parsing, progress, table
from core.jobs.job_types import SimulatePayload


class Trickle(io.BytesIO):
    """A stream that returns at most ``n`` bytes per read (lines split across reads)."""

    def __init__(self, data: bytes, n: int) -> None:
        super().__init__(data)
        self.n = n

    def read(self, size: int = -1) -> bytes:
        return super().read(min(self.n, size if size >= 0 else self.n))


def test_lines_carry_their_number_and_the_offset_after_them_across_reads():
    data = b"\xef\xbb\xbfa\r\nbb\n\nccc"
    lines = list(parsing.lines(Trickle(data, 2)))
    assert [(ln.number, ln.data) for ln in lines] == [(1, b"a"), (2, b"bb"), (3, b""), (4, b"ccc")]
    assert [ln.end for ln in lines] == [6, 9, 10, 13]
    # Resuming at an offset gives the same lines from there on.
    rest = list(parsing.lines(io.BytesIO(data[6:]), offset=6, number=2))
    assert rest == lines[1:]


def test_a_line_over_the_limit_is_refused_without_reading_it_all(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_RECORD_BYTES", 10)
    with pytest.raises(parsing.RecordTooLong):
        list(parsing.lines(io.BytesIO(b"x" * 100)))


def test_jsonl_records_skip_blank_lines_and_report_bad_ones():
    source = parsing.lines(io.BytesIO(b'{"a": 1}\n\n[1]\nnope\n{"b": 2}'))
    records = list(parsing.jsonl_records(source))
    assert [(r.line, r.fields) for r in records] == [
        (1, {"a": 1}), (3, None), (4, None), (5, {"b": 2})]
    assert "object" in records[1].error and "JSON" in records[2].error


def test_csv_records_map_columns_join_quoted_line_breaks_and_leave_empty_cells_out():
    data = b'text,n\n"two\nlines",1\n,2\n\na,b,c\n'
    source = parsing.lines(io.BytesIO(data))
    header, _, _ = parsing.csv_header(source)
    records = list(parsing.csv_records(source, header))
    assert header == ["text", "n"]
    assert [(r.line, r.fields) for r in records] == [
        (2, {"text": "two\nlines", "n": "1"}), (4, {"n": "2"}), (6, None)]
    assert "3 columns" in records[2].error


def test_csv_strings_are_coerced_by_the_types_schema():
    payload, errors = parsing.validate(SimulatePayload, {"durationSeconds": "0.5", "steps": "2"})
    assert errors == [] and payload["durationSeconds"] == 0.5 and payload["steps"] == 2
    _, errors = parsing.validate(SimulatePayload, {"steps": "many"})
    assert errors[0]["field"] == "steps"


def test_format_from_the_declaration_or_the_key():
    assert parsing.format_of("uploads/a/b/x.CSV", None) == "csv"
    assert parsing.format_of("uploads/a/b/x.jsonl", None) == "jsonl"
    assert parsing.format_of("uploads/a/b/x.csv", "jsonl") == "jsonl"


def test_a_counter_counts_each_child_once_whatever_sets_it_is_in():
    counter = {"C": {1, 2, 3}, "F": {3, 4}, "X": {4, 5}}
    assert counting.tally(counter) == (3, 0, 2, [])
    assert counting.tally({"F": {7, 9}}) == (0, 2, 0, [7, 9])
    assert counting.group_size({}) == layout.GROUP_SIZE
    assert counting.group_size({"GroupLen": 3}) == 3


def test_groups_ids_and_the_window():
    assert list(layout.group_indexes(2, 25)) == [20, 21, 22, 23, 24]
    assert layout.group_count(21) == 3 and layout.window_groups(20) == 2
    assert layout.window_groups(25) == 3
    assert layout.child_id("b", 1) == layout.child_id("b", 1) != layout.child_id("b", 2)
    assert layout.counter_key("b", 17)["BatchId"]["S"] == f"b#c{17 % layout.STRIPES}"


def test_ingested_groups_count_the_last_short_group_only_once_read_to_the_end():
    assert counting.ingested_groups({"Ingested": 25}) == 2
    assert counting.ingested_groups({"Ingested": 25, "IngestDone": True}) == 3


def test_a_batch_is_complete_when_every_group_is_rolled_up_and_nothing_is_left():
    meta = {"Ingested": 25, "IngestDone": True, "Rolled": 3, "Status": "RUNNING"}
    assert counting.is_complete(meta)
    assert not counting.is_complete({**meta, "Rolled": 2})
    assert not counting.is_complete({**meta, "Open": {2}})
    assert not counting.is_complete({**meta, "Retrying": True})
    assert not counting.is_complete({**meta, "IngestDone": False})
    assert counting.is_complete({**meta, "IngestDone": False, "Status": "CANCELLED"})


def test_counts_progress_throughput_and_eta():
    figures = progress.Figures(ingested=100, total=200, completed=40, failed=5, cancelled=5,
                               processing=3, ended=False)
    assert progress.counts(figures) == {"QUEUED": 47, "PROCESSING": 3, "COMPLETED": 40,
                                        "FAILED": 5, "CANCELLED": 5}
    assert sum(progress.counts(figures).values()) == 100
    assert progress.percent(figures) == 25
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert progress.rate(figures, started=start, until=start + timedelta(seconds=10)) == (5.0, 30.0)
    assert progress.rate(figures, started=None, until=start) == (None, None)
    ended = progress.Figures(ingested=10, total=10, completed=10, failed=0, cancelled=0,
                             processing=0, ended=True)
    assert progress.percent(ended) == 100
    assert progress.rate(ended, started=start, until=start + timedelta(seconds=5)) == (2.0, 0.0)


def test_an_open_group_retried_counts_only_what_the_meta_item_does_not_hold():
    counter = {"C": {0, 1}, "X": {2}, "F": {3}, "Kept": [2, 0, 1]}
    assert counting.open_tally(counter) == (0, 1, 0, [3])
    assert counting.open_tally({"C": {5}}) == (1, 0, 0, [])


def test_a_group_waits_for_the_window_in_the_redo_range_unless_open():
    meta = {"Redo": 3, "RedoEnd": 7, "Open": {4}}
    assert [g for g in range(9) if table.waiting(meta, g)] == [3, 5, 6]
    assert not table.waiting({}, 3)


def test_the_redo_scan_takes_retried_groups_in_order_up_to_the_free_slots(monkeypatch):
    counters = {
        3: {"C": {30}, "RolledUp": [10, 0, 0]},  # nothing to retry: passed
        4: {"C": {40, 41}, "Kept": [2, 0, 0]},  # requeued: 42..49 to send
        6: {"Kept": [0, 0, 0]},  # requeued, all of it
        7: {"F": {70}, "Kept": [0, 0, 0]},  # the retry task is still on it
        8: {"Kept": [0, 0, 0]},
    }
    monkeypatch.setattr(counting.table, "get_counters",
                        lambda batch_id, groups, consistent: {g: counters[g] for g in groups if g in counters})
    meta = {"Redo": 3, "RedoEnd": 9, "Open": {5}, "Ingested": 90, "Retrying": 1}
    scan = counting._redo_scan("b", meta, free=1)
    assert scan.groups == {4: list(range(42, 50))} and scan.cursor == 5
    scan = counting._redo_scan("b", meta, free=5)
    assert list(scan.groups) == [4, 6] and scan.cursor == 7  # stops at group 7
    scan = counting._redo_scan("b", {**meta, "Retrying": None}, free=5)
    assert scan.groups[7] == list(range(71, 80)) and list(scan.groups) == [4, 6, 7, 8]
    assert scan.cursor is None  # the range is passed: Redo is removed
    scan = counting._redo_scan("b", {**meta, "Retrying": None, "RedoEnd": 10}, free=9)
    assert list(scan.groups) == [4, 6, 7, 8] and scan.cursor == 9  # 9's counter unread
    assert counting._redo_scan("b", {"Open": set()}, free=2).groups == {}


def test_a_refill_that_only_moves_the_redo_cursor_writes_a_valid_update(monkeypatch):
    counters = {0: {"C": {0}, "RolledUp": [10, 0, 0]}, 1: {"RolledUp": [10, 0, 0]},
                2: {"F": {25}, "Kept": [0, 0, 0]}}
    writes = []

    def update_meta(batch_id, *, expression, condition=None, names=None, values=None):
        text = expression + " " + (condition or "")
        # DynamoDB refuses a name or value the expressions do not use.
        assert all(k in text for k in (names or {})) and all(k in text for k in (values or {}))
        writes.append(expression)
        return {"Ingested": 120}

    monkeypatch.setattr(counting.table, "get_counters",
                        lambda batch_id, groups, consistent: {g: counters[g] for g in groups})
    monkeypatch.setattr(counting.table, "update_meta", update_meta)
    meta = {"Status": "RUNNING", "NextGroup": 12, "Ingested": 120, "IngestDone": True,
            "Redo": 0, "RedoEnd": 3, "Retrying": 1}
    assert counting.fill_window("b", meta) == []
    assert writes == ["SET NextGroup = :n, StartedAt = if_not_exists(StartedAt, :now), Redo = :redo"]
