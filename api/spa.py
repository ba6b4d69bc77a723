"""Serve the built Angular app at / with an index.html fallback for client routes.

The SPA owns every path the server's own routes do not: a path whose first
segment is one of theirs (``/api`` and ``/api/...``, ``/docs``, ``/metrics``, ...)
is never the web app's, so an unknown API path is a problem+json 404 and a known
one with the wrong method a 405 (api/methods.py), never index.html (issue 12,
item 7). Within its space the SPA serves a file of the build, index.html for a
plain client route (``/jobs/<id>``), and 404 for anything else: a missing file
(``/missing.js``) or a path no file can have (NUL, control characters, ``..``,
invalid UTF-8, overlong names), which is refused before it reaches the file
system (issue 12, item 6).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import FileResponse
from starlette.routing import BaseRoute, Match, NoMatchFound, get_route_path
from starlette.types import Receive, Scope, Send

from core.settings import settings

# Characters no file of a web build has; U+FFFD is what invalid UTF-8 percent-
# encodings decode to. "\\" is a separator on some systems.
_HOSTILE = re.compile(r"[\x00-\x1f\x7f\\\ufffd]")
_MAX_PATH = 1024  # characters; far above any client route or asset of the build
_MAX_NAME = 255  # bytes per segment (NAME_MAX)


def plausible(path: str) -> bool:
    """Whether ``path`` (without its leading "/") could name a file of the build."""
    if len(path) > _MAX_PATH or _HOSTILE.search(path):
        return False
    return all(
        segment not in (".", "..") and len(segment.encode()) <= _MAX_NAME
        for segment in path.split("/")
    )


class SpaRoute(BaseRoute):
    """GET and HEAD of every path no other route owns (FileResponse answers a HEAD
    without reading the file)."""

    methods = frozenset({"GET", "HEAD"})

    def __init__(self, *, reserved: Callable[[str], bool]) -> None:
        self.reserved = reserved

    def claims(self, path: str) -> bool:
        return not self.reserved(path) and plausible(path.lstrip("/"))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = get_route_path(scope)
        if not self.claims(path):
            return Match.NONE, {}
        # "route" and "path_params" label the request as "/{path}" in the HTTP metrics.
        child_scope = {"route": self, "path_params": {"path": path.lstrip("/")}}
        return (Match.FULL if scope["method"] in self.methods else Match.PARTIAL), child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in self.methods:
            raise HTTPException(405, headers={"Allow": "GET, HEAD, OPTIONS"})
        response = serve(get_route_path(scope).lstrip("/"))
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: object):
        raise NoMatchFound(name, path_params)


def serve(path: str) -> FileResponse:
    root = Path(settings.frontend_dist).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise HTTPException(404, "the web app is not built; run scripts/run or `npx ng build` in frontend/")
    found = _file_under(root, path)
    if found is not None:
        return FileResponse(found)
    if "." in path.rsplit("/", 1)[-1]:
        raise HTTPException(404)  # a file of the build that is not there: not a client route
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


def _file_under(root: Path, path: str) -> Path | None:
    """The file ``path`` names inside ``root``, or None; never raises (an unmappable
    path is simply not a file: issue 12, item 6)."""
    if not path:
        return None
    try:
        candidate = (root / path).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    except (OSError, ValueError, RuntimeError):  # ENAMETOOLONG, NUL, a symlink loop
        pass
    return None
