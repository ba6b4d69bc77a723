"""The size DynamoDB gives an item, from its documented rules. Pure: no I/O.

DynamoDB refuses an item over 400 KB (409,600 bytes) and bills writes per 1 KB and
reads per 4 KB of it, so the API checks a job's size before storing it, the worker
before storing a result, and the cost meter (issue 13) prices writes with it.

The rules (DynamoDB Developer Guide, "Item sizes and formats"):

* an attribute counts its name's UTF-8 length plus its value's size;
* String: UTF-8 length; Binary: raw byte length;
* Number: 1 byte per two significant digits, plus 1, plus 1 if negative
  (leading and trailing zeros are not significant);
* Boolean and Null: 1 byte;
* List and Map: 3 bytes, plus 1 byte per element, plus the elements (a Map's
  element also counts its key);
* String/Number/Binary sets: the sum of their elements.

For an UpdateItem the size that counts (for the limit and for billing) is the
larger of the item before and after the update.
"""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from typing import Any

# The marshalled form boto3 and the wire use: {"S": "..."}, {"N": "12"}, {"M": {...}}, ...
AttributeValue = dict[str, Any]

MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit, names included


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _binary(value: bytes | bytearray | str) -> int:
    # boto3 hands us bytes; the JSON wire form (and some callers) use base64 text.
    if isinstance(value, bytes | bytearray):
        return len(value)
    return len(base64.b64decode(value))


def number_size(text: str) -> int:
    """Bytes DynamoDB stores for a Number given as its decimal text (e.g. "-12.50")."""
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    if number.is_zero():
        return 2  # one significant digit, rounded up to one byte, plus 1
    # Leading and trailing zeros are not significant. (Not Decimal.normalize: it
    # rounds to the context's 28 digits; DynamoDB keeps 38.)
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    size = (len(digits) + 1) // 2 + 1
    return size + 1 if number.is_signed() else size


def value_size(value: AttributeValue) -> int:
    """The size of one marshalled attribute value (without its name)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return _utf8(inner)
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return _binary(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(s) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(_binary(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, AttributeValue]) -> int:
    """The size of a marshalled item: every attribute's name plus its value."""
    return sum(_utf8(name) + value_size(value) for name, value in item.items())
