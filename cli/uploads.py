"""Upload a file through POST /api/uploads' presigned flow (README "Large inputs").

The bytes go straight to S3, never through the API: one PUT, or above the server's
threshold one PUT per part (each part's size is signed into its URL) and then the
parts' ETags to ``completeUrl``. A file is read a part at a time, never whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)

from cli.client import Api
from cli.waiting import stderr

CHUNK = 256 * 1024

CONTENT_TYPES = {".csv": "text/csv", ".tsv": "text/plain", ".txt": "text/plain",
                 ".jsonl": "text/plain", ".ndjson": "text/plain", ".json": "text/plain"}


def content_type_of(path: Path) -> str:
    # JSON Lines go up as text/plain: the upload types the server accepts by default
    # (BATCHLAB_UPLOAD_CONTENT_TYPES) are CSV and text.
    return CONTENT_TYPES.get(path.suffix.lower(), "text/plain")


def _chunks(file: BinaryIO, size: int, advance: Any) -> Iterator[bytes]:
    left = size
    while left > 0:
        data = file.read(min(CHUNK, left))
        if not data:
            raise OSError("the file got shorter while it was being uploaded")
        left -= len(data)
        advance(len(data))
        yield data


def upload_file(api: Api, path: Path, *, owner: str | None,
                content_type: str | None = None) -> dict[str, Any]:
    """Upload ``path``; returns ``{"key", "size"}``, the key to name in a job or batch."""
    size = path.stat().st_size
    content_type = content_type or content_type_of(path)
    plan = api.post("/api/uploads", {"filename": path.name, "contentType": content_type,
                                     "size": size, "ownerId": owner})
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn())
    with Progress(*columns, console=stderr, transient=True) as progress, path.open("rb") as file:
        bar = progress.add_task(f"uploading {path.name}", total=size)

        def advance(n: int) -> None:
            progress.update(bar, advance=n)

        if plan["kind"] == "single":
            headers = {**plan.get("headers", {}), "Content-Length": str(size)}
            api.put_presigned(plan["url"], _chunks(file, size, advance), headers=headers)
            return {"key": plan["key"], "size": size}
        etags = []
        for part in plan["parts"]:
            file.seek((part["partNumber"] - 1) * plan["partSize"])
            resp = api.put_presigned(part["url"], _chunks(file, part["size"], advance),
                                     headers={"Content-Length": str(part["size"])})
            etags.append({"partNumber": part["partNumber"], "etag": resp.headers["etag"]})
        return api.post(plan["completeUrl"], {"key": plan["key"], "parts": etags})
