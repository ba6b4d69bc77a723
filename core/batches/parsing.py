"""Items from an input file: JSON Lines or CSV, read as a byte stream. Pure: no I/O
beyond the stream it is given.

A file of any size is read in ``CHUNK`` pieces, one record at a time, so memory
stays bounded by the longest record (``MAX_RECORD_BYTES``). Each record carries the
byte offset just after it: ingestion checkpoints that offset and resumes there with
a ranged GET. CSV records may span lines (a quoted field with a line break): lines
are joined until the quotes balance (RFC 4180: a quote inside a field is doubled).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

CHUNK = 256 * 1024
MAX_RECORD_BYTES = 1024 * 1024
BOM = b"\xef\xbb\xbf"


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line number in the file
    end: int  # byte offset just after the line (its newline included)
    data: bytes


class RecordTooLong(ValueError):
    pass


def lines(stream: Readable, *, offset: int = 0, number: int = 1) -> Iterator[Line]:
    """The stream's lines (without their line break), from byte ``offset`` of the
    file, whose first line there is line ``number``. A BOM at offset 0 is dropped."""
    buffer = b""
    position = offset
    bom_pending = offset == 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        buffer += chunk
        if bom_pending:
            if len(buffer) < len(BOM):
                continue  # (a stream may hand out fewer bytes than asked)
            bom_pending = False
            if buffer.startswith(BOM):
                buffer = buffer[len(BOM):]
                position += len(BOM)
        start = 0
        while True:
            cut = buffer.find(b"\n", start)
            if cut < 0:
                break
            position += cut + 1 - start
            yield Line(number, position, buffer[start:cut].rstrip(b"\r"))
            number += 1
            start = cut + 1
        buffer = buffer[start:]
        if len(buffer) > MAX_RECORD_BYTES:
            raise RecordTooLong(f"line {number} is over {MAX_RECORD_BYTES} bytes")
    if buffer:
        position += len(buffer)
        yield Line(number, position, buffer.rstrip(b"\r"))


@dataclass(frozen=True)
class Record:
    line: int  # where the record starts
    end: int  # byte offset just after it
    fields: dict[str, Any] | None  # the item as read, or None if it could not be read
    error: str | None = None


def jsonl_records(source: Iterator[Line]) -> Iterator[Record]:
    """One JSON object per non-blank line."""
    for line in source:
        text = line.data.strip()
        if not text:
            continue
        try:
            value = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            yield Record(line.number, line.end, None, f"not JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield Record(line.number, line.end, None, "each line must be a JSON object")
        else:
            yield Record(line.number, line.end, value)


def csv_header(source: Iterator[Line]) -> tuple[list[str], int, int] | None:
    """The header row's columns, the offset after it, the next line's number."""
    for row, start, end in _csv_rows(source):
        if any(cell.strip() for cell in row):
            return [cell.strip() for cell in row], end, start + 1
    return None


def _csv_rows(source: Iterator[Line]) -> Iterator[tuple[list[str], int, int]]:
    """(cells, first line number, end offset) of each CSV record; a record spans lines
    while its quotes are unbalanced."""
    pending: list[bytes] = []
    start = 0
    quotes = 0
    end = -1
    for line in source:
        end = line.end
        if not pending:
            start = line.number
        pending.append(line.data)
        quotes += line.data.count(b'"')
        if quotes % 2:
            if sum(len(p) for p in pending) > MAX_RECORD_BYTES:
                raise RecordTooLong(f"the record at line {start} is over {MAX_RECORD_BYTES} bytes")
            continue
        text = b"\n".join(pending).decode("utf-8", errors="replace")
        pending, quotes = [], 0
        yield next(csv.reader([text], strict=False), []), start, line.end
    if pending:
        text = b"\n".join(pending).decode("utf-8", errors="replace")
        yield next(csv.reader([text], strict=False), []), start, end


def csv_records(source: Iterator[Line], header: list[str]) -> Iterator[Record]:
    """One item per non-blank row: column -> value (strings; empty cells left out, so
    the type's defaults apply). The type's schema coerces the strings (lax mode)."""
    for row, start, end in _csv_rows(source):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Record(start, end, None, f"{len(row)} columns, the header has {len(header)}")
            continue
        yield Record(start, end, {k: v for k, v in zip(header, row, strict=True) if v != ""})


def format_of(key: str, declared: str | None) -> str:
    """``jsonl`` or ``csv``: as declared, else from the key's extension (csv otherwise jsonl)."""
    if declared:
        return declared
    return "csv" if key.lower().endswith((".csv", ".tsv")) else "jsonl"


def validate(model: type[BaseModel], fields: dict[str, Any]) -> tuple[dict[str, Any] | None,
                                                                       list[dict[str, str]]]:
    """(normalised payload, []) or (None, errors as {field, message})."""
    try:
        value = model.model_validate(fields)
    except ValidationError as exc:
        return None, [{"field": ".".join(str(p) for p in e["loc"]) or "item", "message": e["msg"]}
                      for e in exc.errors(include_url=False, include_context=False)]
    return value.model_dump(by_alias=True, mode="json", exclude_none=True), []
