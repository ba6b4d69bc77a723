"""Request body gate, as plain ASGI middleware: JSON only (415), size limit (413).

Checks Content-Length up front, and counts bytes for chunked bodies, buffering
at most ``max_bytes`` + 1 before handing the body to the app.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem


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
        if not _is_json(headers.get(b"content-type", b"")):
            await _send_problem(
                scope, receive, send, 415, "send the body as application/json", "unsupported-media-type"
            )
            return
        # A batch carries up to 100 jobs; each job's payload is still held to
        # max_bytes by the job model (core.job_types caps text fields).
        limit = self.max_batch_bytes if scope["path"].endswith(":batch") else self.max_bytes
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._reject(scope, receive, send, limit)
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
            if size > limit:
                await self._reject(scope, receive, send, limit)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await _send_problem(
            scope,
            receive,
            send,
            413,
            f"the request body exceeds the limit of {limit} bytes",
            "payload-too-large",
        )


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


async def _send_problem(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, slug: str
) -> None:
    response = problem(status, detail, slug=slug, instance=scope.get("path"))
    await response(scope, receive, send)
