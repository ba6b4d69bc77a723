"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    BackendUnavailable,
    IdempotencyMismatch,
    InvalidCursor,
    InvalidPayload,
    JobConflict,
    JobNotFound,
    MissingOwner,
    OwnerMismatch,
    UnknownJobType,
)
from core.settings import settings

log = logging.getLogger("batchlab.api")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:batchlab:problem:"


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field(loc: tuple | list, *, drop_body: bool = True) -> str:
    parts = [str(p) for p in loc]
    if drop_body and parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errs):
        ctx = next(e for e in errs if e.get("type") == "json_invalid").get("ctx", {})
        return problem(
            400,
            f"the request body is not valid JSON: {ctx.get('error', 'parse error')}",
            slug="malformed-json",
            instance=request.url.path,
        )
    return problem(
        422,
        "the request did not validate; see errors",
        slug="validation-error",
        errors=[{"field": _field(e["loc"]), "message": e["msg"]} for e in errs],
        instance=request.url.path,
    )


def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    return problem(exc.status_code, detail, headers=getattr(exc, "headers", None), instance=request.url.path)


def _unavailable(request: Request, detail: str) -> JSONResponse:
    return problem(
        503,
        detail,
        slug="backend-unavailable",
        headers={"Retry-After": str(settings.retry_after_seconds * 5)},
        instance=request.url.path,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)

    @app.exception_handler(JobNotFound)
    def _not_found(request: Request, exc: JobNotFound) -> JSONResponse:
        return problem(404, str(exc), slug="job-not-found", instance=request.url.path)

    @app.exception_handler(UnknownJobType)
    def _unknown_type(request: Request, exc: UnknownJobType) -> JSONResponse:
        return problem(
            422,
            str(exc),
            slug="validation-error",
            errors=[{"field": "type", "message": str(exc)}],
            instance=request.url.path,
        )

    @app.exception_handler(InvalidPayload)
    def _invalid_payload(request: Request, exc: InvalidPayload) -> JSONResponse:
        return problem(
            422,
            str(exc),
            slug="validation-error",
            errors=[
                {"field": _field(("payload", *e["loc"]), drop_body=False), "message": e["msg"]}
                for e in exc.errors
            ],
            instance=request.url.path,
        )

    @app.exception_handler(InvalidCursor)
    def _invalid_cursor(request: Request, exc: InvalidCursor) -> JSONResponse:
        return problem(
            422,
            str(exc),
            slug="validation-error",
            errors=[{"field": "cursor", "message": str(exc)}],
            instance=request.url.path,
        )

    @app.exception_handler(IdempotencyMismatch)
    def _idempotency(request: Request, exc: IdempotencyMismatch) -> JSONResponse:
        return problem(
            422,
            "this Idempotency-Key was already used with a different request body",
            slug="idempotency-key-reused",
            instance=request.url.path,
        )

    @app.exception_handler(MissingOwner)
    def _missing_owner(request: Request, exc: MissingOwner) -> JSONResponse:
        return problem(
            422,
            "ownerId is required (or use an API key)",
            slug="validation-error",
            errors=[{"field": "ownerId", "message": "Field required"}],
            instance=request.url.path,
        )

    @app.exception_handler(OwnerMismatch)
    def _owner_mismatch(request: Request, exc: OwnerMismatch) -> JSONResponse:
        return problem(
            403,
            "ownerId does not match the owner of your API key",
            slug="owner-mismatch",
            instance=request.url.path,
        )

    @app.exception_handler(JobConflict)
    def _conflict(request: Request, exc: JobConflict) -> JSONResponse:
        return problem(409, str(exc), slug="job-conflict", instance=request.url.path)

    @app.exception_handler(BackendUnavailable)
    def _backend(request: Request, exc: BackendUnavailable) -> JSONResponse:
        return _unavailable(request, str(exc))

    @app.exception_handler(BotoCoreError)
    def _botocore(request: Request, exc: BotoCoreError) -> JSONResponse:
        log.warning("AWS unreachable on %s: %r", request.url.path, exc)
        return _unavailable(request, "the job store or queue is unreachable; try again shortly")

    @app.exception_handler(ClientError)
    def _client_error(request: Request, exc: ClientError) -> JSONResponse:
        log.warning("AWS error on %s: %r", request.url.path, exc)
        return _unavailable(request, "the job store or queue refused the request; try again shortly")

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "an unexpected error occurred", instance=request.url.path)
