"""Request body gate, as plain ASGI middleware: JSON only (415), size limit (413).

Checks Content-Length up front, and counts bytes for chunked bodies, buffering
at most ``max_bytes`` + 1 before handing the body to the app.

A refused body is read to its end (and thrown away) before the problem is sent:
a server that answers and closes while the client is still sending makes the
kernel reset the connection, and clients (urllib, http.client, requests) then
report "broken pipe" or ECONNRESET instead of the 413 (issue 12, item 10). Past
:data:`DRAIN_CAP` bytes the connection is closed instead: nobody should make us
read an unbounded body just to be polite.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

# The most we read and discard of a refused body: 16× the batch limit's default.
# Bigger bodies are cut off (the client may then see a reset, not the 413).
DRAIN_CAP = 16 * 1024 * 1024


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_batch_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_batch_bytes = max_batch_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        has_body = headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
        if not has_body:
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length")
        declared = int(length) if length is not None and length.isdigit() else None
        if not _is_json(headers.get(b"content-type", b"")):
            await _refuse(scope, receive, send, declared=declared, received=0, status=415,
                          detail="send the body as application/json", slug="unsupported-media-type")
            return
        # A batch carries up to 100 jobs; each job's payload is still held to
        # max_bytes by the job model (core.jobs.job_types caps text fields).
        # POST /api/batches carries up to batch_max_inline_items payloads (issue 14).
        path = scope["path"]
        batch = path.endswith(":batch") or path.rstrip("/") == "/api/batches"
        limit = self.max_batch_bytes if batch else self.max_bytes
        if declared is not None and declared > limit:
            await self._reject(scope, receive, send, limit, declared=declared, received=0)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            more = message.get("more_body", False)
            if size > limit:
                received = size if more else None  # None: nothing left to read
                await self._reject(scope, receive, send, limit, declared=declared, received=received)
                return
            chunks.append(body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, limit: int, *,
        declared: int | None, received: int | None,
    ) -> None:
        await _refuse(scope, receive, send, declared=declared, received=received, status=413,
                      detail=f"the request body exceeds the limit of {limit} bytes",
                      slug="payload-too-large")


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


async def _refuse(
    scope: Scope, receive: Receive, send: Send, *, declared: int | None, received: int | None,
    status: int, detail: str, slug: str,
) -> None:
    """Answer ``status`` problem+json to a body we will not use.

    Steps: read and discard the rest of the body (``received`` bytes already read,
    None if it was read to its end) unless it is declared or turns out larger than
    DRAIN_CAP; then send the problem with ``Connection: close`` (the client may be
    mid-body if we gave up draining, and a refused client need not stay).
    """
    if received is not None and (declared is None or declared <= DRAIN_CAP):
        more = True
        while more and received <= DRAIN_CAP:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            received += len(message.get("body", b""))
            more = message.get("more_body", False)
    response = problem(status, detail, slug=slug, instance=scope.get("path"),
                       headers={"Connection": "close"})
    await response(scope, receive, send)
