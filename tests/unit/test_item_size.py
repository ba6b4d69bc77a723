"""core.storage.item_size against DynamoDB's documented rules and known sizes."""

from __future__ import annotations

import json

import pytest
from boto3.dynamodb.types import TypeSerializer

from core.storage.item_size import MAX_ITEM_BYTES, item_size, number_size, value_size

_ser = TypeSerializer()


def marshal(values: dict) -> dict:
    return {k: _ser.serialize(v) for k, v in values.items()}


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 2), ("7", 2), ("27", 2), ("123", 3), ("1234", 3), ("12345", 4),
        ("-1", 3), ("-123", 4),
        ("1000", 2),      # trailing zeros are not significant
        ("0.0001", 2),    # nor leading ones
        ("12.50", 3),     # 1, 2, 5
        ("1E+10", 2),
        ("9" * 38, 20),   # the most digits DynamoDB takes
    ],
)
def test_number_size(text, size):
    assert number_size(text) == size


def test_scalars_count_utf8_bytes_and_one_byte_for_bool_and_null():
    assert value_size({"S": "abc"}) == 3
    assert value_size({"S": "é"}) == 2
    assert value_size({"S": "€"}) == 3
    assert value_size({"S": "😀"}) == 4
    assert value_size({"B": b"\x00\x01\x02"}) == 3
    assert value_size({"B": "AAEC"}) == 3  # base64 text counts its raw bytes
    assert value_size({"BOOL": True}) == 1
    assert value_size({"NULL": True}) == 1


def test_lists_and_maps_cost_3_bytes_plus_1_per_element():
    assert value_size({"L": []}) == 3
    assert value_size({"M": {}}) == 3
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert value_size({"M": {"k": {"S": "ab"}}}) == 3 + 1 + 1 + 2
    assert value_size({"SS": ["a", "bc"]}) == 3
    assert value_size({"NS": ["1", "123"]}) == 2 + 3


def test_known_sizes_from_other_calculators():
    # dyno-item-size's README example: 32 bytes.
    assert item_size(marshal({"string": "string", "number": 27, "buffer": b"buffer"})) == 32
    # dynamo-size's README example: 2025 bytes (503 three-letter names).
    assert item_size(marshal({"Id": 123, "Names": ["foo"] * 503})) == 2025


def test_a_job_item_by_hand():
    item = marshal({
        "JobId": "j1",
        "Payload": json.dumps({"text": "né"}, ensure_ascii=False, separators=(",", ":")),
        "Attempts": 0,
        "History": [{"Status": "QUEUED", "At": "2026-01-01T00:00:00.000000Z"}],
        "DeadLettered": True,
    })
    history = 3 + 1 + (3 + (1 + 6 + 6) + (1 + 2 + 27))
    expected = (5 + 2) + (7 + len('{"text":"né"}'.encode())) + (8 + 2) + (7 + history) + (12 + 1)
    assert item_size(item) == expected


def test_the_limit_is_dynamodbs_400_kb():
    assert MAX_ITEM_BYTES == 409_600


def test_unknown_types_are_refused():
    with pytest.raises(ValueError):
        value_size({"X": "?"})
    with pytest.raises(ValueError):
        number_size("abc")
