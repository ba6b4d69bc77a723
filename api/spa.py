"""Serve the built Angular app at / with an index.html fallback for client routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from core.settings import settings

router = APIRouter(include_in_schema=False)

_RESERVED = ("api/", "docs", "redoc", "openapi.json", "metrics", "healthz", "readyz")


@router.get("/{path:path}")
def serve_spa(path: str) -> FileResponse:
    if path.startswith(_RESERVED):
        raise HTTPException(404)
    root = Path(settings.frontend_dist).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise HTTPException(404, "the web app is not built; run scripts/run or `npx ng build` in frontend/")
    candidate = (root / path).resolve()
    if path and candidate.is_file() and candidate.is_relative_to(root):
        return FileResponse(candidate)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})
