"""RFC 9457 problem details for every error the API returns.

Domain errors map to problems through one table (:data:`DOMAIN_PROBLEMS`), used
both by the exception handlers and by batch submit's per-job results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    BackendUnavailable,
    BatchConflict,
    BatchNotFound,
    DataMissing,
    IdempotencyMismatch,
    InvalidCursor,
    InvalidPayload,
    InvalidRequest,
    InvalidUploadParts,
    JobConflict,
    JobNotFound,
    JobTooLarge,
    MissingOwner,
    OwnerMismatch,
    UnknownJobType,
    UploadNotFound,
    UploadTooLarge,
)
from core.settings import settings

log = logging.getLogger("batchlab.api")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:batchlab:problem:"


def problem_body(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
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
    return body | extra


def problem(
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, **kwargs),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_path(loc: tuple | list, *, drop_first: bool = True) -> str:
    parts = [str(p) for p in loc]
    if drop_first and parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(errors: list[dict], *, prefix: tuple = ()) -> list[dict[str, str]]:
    return [{"field": field_path((*prefix, *e["loc"]), drop_first=not prefix), "message": e["msg"]}
            for e in errors]


@dataclass(frozen=True)
class DomainProblem:
    status: int
    slug: str
    detail: Callable[[Exception], str] = str
    errors: Callable[[Exception], list[dict[str, str]] | None] = lambda exc: None


def _unavailable_detail(exc: Exception) -> str:
    if isinstance(exc, BackendUnavailable):
        return str(exc)
    return "the job store or queue is unreachable; try again shortly"


DOMAIN_PROBLEMS: dict[type[Exception], DomainProblem] = {
    JobNotFound: DomainProblem(404, "job-not-found"),
    UnknownJobType: DomainProblem(
        422, "validation-error", errors=lambda e: [{"field": "type", "message": str(e)}]
    ),
    InvalidPayload: DomainProblem(
        422, "validation-error", errors=lambda e: validation_errors(e.errors, prefix=("payload",))
    ),
    InvalidRequest: DomainProblem(
        422, "validation-error", errors=lambda e: validation_errors(e.errors, prefix=())
    ),
    InvalidCursor: DomainProblem(
        422, "validation-error", errors=lambda e: [{"field": "cursor", "message": str(e)}]
    ),
    IdempotencyMismatch: DomainProblem(
        422,
        "idempotency-key-reused",
        detail=lambda e: "this Idempotency-Key was already used with a different request body",
    ),
    MissingOwner: DomainProblem(
        422,
        "validation-error",
        detail=lambda e: "ownerId is required (or use an API key)",
        errors=lambda e: [{"field": "ownerId", "message": "Field required"}],
    ),
    OwnerMismatch: DomainProblem(
        403, "owner-mismatch", detail=lambda e: "ownerId does not match the owner of your API key"
    ),
    JobConflict: DomainProblem(409, "job-conflict"),
    BatchNotFound: DomainProblem(404, "batch-not-found"),
    BatchConflict: DomainProblem(409, "batch-conflict"),
    # A payload or result that expired with its TTL/lifecycle rule (issue 13).
    DataMissing: DomainProblem(410, "job-data-gone"),
    # Too large as stored (UTF-8 JSON, DynamoDB's size rules): no retry can succeed.
    JobTooLarge: DomainProblem(
        413, "job-too-large", errors=lambda e: [{"field": "payload", "message": str(e)}]
    ),
    UploadTooLarge: DomainProblem(
        413, "upload-too-large", errors=lambda e: [{"field": "size", "message": str(e)}]
    ),
    UploadNotFound: DomainProblem(404, "upload-not-found"),
    InvalidUploadParts: DomainProblem(
        422, "validation-error", errors=lambda e: [{"field": "parts", "message": str(e)}]
    ),
    BackendUnavailable: DomainProblem(503, "backend-unavailable", detail=_unavailable_detail),
    BotoCoreError: DomainProblem(503, "backend-unavailable", detail=_unavailable_detail),
    ClientError: DomainProblem(503, "backend-unavailable", detail=_unavailable_detail),
}


def describe(exc: Exception, *, instance: str | None = None) -> dict[str, Any] | None:
    """The problem body for a domain error, or None if it is not one."""
    for kind, spec in DOMAIN_PROBLEMS.items():
        if isinstance(exc, kind):
            return problem_body(
                spec.status, spec.detail(exc), slug=spec.slug, errors=spec.errors(exc),
                instance=instance,
            )
    return None


def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = exc.errors()
    bad_json = next((e for e in errs if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        return problem(
            400,
            f"the request body is not valid JSON: {bad_json.get('ctx', {}).get('error', 'parse error')}",
            slug="malformed-json",
            instance=request.url.path,
        )
    return problem(
        422,
        "the request did not validate; see errors",
        slug="validation-error",
        errors=validation_errors(errs),
        instance=request.url.path,
    )


def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    return problem(
        exc.status_code, detail, headers=getattr(exc, "headers", None), instance=request.url.path
    )


def _on_domain(request: Request, exc: Exception) -> JSONResponse:
    body = describe(exc, instance=request.url.path)
    assert body is not None
    headers = None
    if body["status"] == 503:
        log.warning("backend unavailable on %s: %r", request.url.path, exc)
        headers = {"Retry-After": str(settings.retry_after_seconds * 5)}
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s", request.url.path)
    return problem(500, "an unexpected error occurred", instance=request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    for kind in DOMAIN_PROBLEMS:
        app.add_exception_handler(kind, _on_domain)
    app.add_exception_handler(Exception, _unexpected)


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make every 4xx/5xx response in the OpenAPI document a Problem (problem+json).

    FastAPI documents its validation errors as ``application/json``; ours are
    problem+json everywhere, so the document says so (schemathesis checks it).
    """
    # Problem's own definitions (FieldError) become components too: pydantic puts
    # them under the model's "$defs", where the "#/components/schemas/..." refs it
    # writes cannot find them (the document was invalid: issue 12, item 9).
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            for code, response in responses.items():
                if code[:1] in ("4", "5"):
                    response["content"] = {PROBLEM_JSON: problem_ref}
                    response.setdefault("description", HTTPStatus(int(code)).phrase)
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)
    return schema
