"""RFC 9110 methods on every path: HEAD wherever GET, OPTIONS, a complete Allow.

FastAPI declares a GET route without HEAD, answers OPTIONS with 405, and gives a
405 the methods of the first route that matched the path only (issue 12, item 8).
:class:`MethodFallback`, the app's last route, fixes the class. The router tries
it only when no route took the request (a route that matches fully is handled
first), so the API's requests never reach it and pay nothing for it; the table
it consults is built once, on first use, from the app's routes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_ALLOWED_KEY = "batchlab.allow"


def allow_header(methods: frozenset[str]) -> str:
    return ", ".join(sorted(methods, key=lambda m: (_ORDER.index(m) if m in _ORDER else 99, m)))


class MethodTable:
    """Which methods each path supports, and which first path segments the
    server's own routes use (the web app serves none of them)."""

    def __init__(self, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self._routes = routes
        self._entries: list[tuple[Callable[[str], object], frozenset[str], bool]] | None = None
        self._reserved: frozenset[str] = frozenset()

    def _build(self) -> list[tuple[Callable[[str], object], frozenset[str], bool]]:
        entries: list[tuple[Callable[[str], object], frozenset[str], bool]] = []
        reserved = {"api"}  # /api and everything under it, whether a route exists or not
        for context in iter_route_contexts(self._routes()):
            route = context.original_route
            if isinstance(route, MethodFallback):
                continue
            claims = getattr(route, "claims", None)  # the web app (api/spa.py)
            if claims is not None:
                entries.append((claims, frozenset(route.methods), False))
                continue
            regex = getattr(context, "path_regex", None)
            if regex is None or not context.methods:
                continue  # mounts, websockets
            if getattr(getattr(route, "endpoint", None), "method_guard", False):
                continue  # a 405 for a literal path a templated one would take (jobs/bulk)
            literal = "{" not in context.path_format
            entries.append((regex.match, frozenset(context.methods), literal))
            first = context.path_format.lstrip("/").split("/", 1)[0]
            if "{" not in first:
                reserved.add(first)
        self._reserved = frozenset(reserved)
        self._entries = entries
        return entries

    def reserved(self, path: str) -> bool:
        if self._entries is None:
            self._build()
        return path.lstrip("/").split("/", 1)[0] in self._reserved

    def allowed(self, path: str) -> frozenset[str]:
        """Every method ``path`` supports (HEAD with GET, OPTIONS with any); empty
        if no route has the path."""
        entries = self._entries if self._entries is not None else self._build()
        matched = [(methods, literal) for matches, methods, literal in entries if matches(path)]
        # A literal path (/api/jobs/bulk) is its own resource, not an id of a templated
        # one (/api/jobs/{job_id}) that also matches it.
        if any(literal for _, literal in matched):
            matched = [m for m in matched if m[1]]
        methods: set[str] = set()
        for route_methods, _ in matched:
            methods |= route_methods
        if not methods:
            return frozenset()
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        return frozenset(methods)


class MethodFallback(BaseRoute):
    """HEAD as GET without the body, OPTIONS as 204 with Allow, and 405 with the
    path's complete Allow, for any path some route has. Keep it the last route."""

    def __init__(self, table: MethodTable, *, router: ASGIApp) -> None:
        self.table = table
        self.router = router  # the app's router, where a HEAD is routed again as a GET

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        method = scope["method"]
        allowed = self.table.allowed(get_route_path(scope))
        if not allowed:
            return Match.NONE, {}  # no such path: the router's 404
        if method in allowed and method not in ("HEAD", "OPTIONS"):
            return Match.NONE, {}  # a route took it already; not ours
        return Match.FULL, {_ALLOWED_KEY: allowed}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed: frozenset[str] = scope[_ALLOWED_KEY]
        method = scope["method"]
        if method == "HEAD" and "GET" in allowed:
            await _as_get(self.router, scope, receive, send)
        elif method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": allow_header(allowed)})(
                scope, receive, send
            )
        else:
            raise HTTPException(405, headers={"Allow": allow_header(allowed)})

    def url_path_for(self, name: str, /, **path_params: object):
        raise NoMatchFound(name, path_params)


async def _as_get(router: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Route the request again as a GET and send its response without the body.

    The copy of the scope keeps the server's own (HEAD) untouched, so uvicorn also
    knows to send no body, even for a response raised as an exception; the route
    it found is copied back for the HTTP metrics' label.
    """
    get_scope = {**scope, "method": "GET"}

    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    try:
        await router(get_scope, receive, send_headers_only)
    finally:
        for key in ("route", "path_params"):
            if key in get_scope:
                scope[key] = get_scope[key]
