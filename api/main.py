"""The FastAPI app: ``uvicorn api.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import methods, openapi, problems, spa
from api.limits import BodySizeLimit
from api.observability import HttpMetrics
from api.routes import batches, health, job_types, jobs, operations, ops, queues, uploads
from core import aws
from core.cost import costs
from core.operations import metrics
from core.settings import settings

_NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Routes are sync (boto3 blocks); they run in anyio's thread pool, sized here.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
    aws.use_api_limits()  # a frozen backend is a 503 within 3 s (before any client is built)
    metrics.track_aws()
    costs.start_flusher("api")
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="BatchLab",
        summary="Asynchronous batch jobs: FastAPI → DynamoDB → Celery over SQS → workers.",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=None if settings.otel_enabled else _NO_TELEMETRY,
        # operationId = the route function's name (get_job, cancel_job): the links
        # name them; the document's validator (tests) rejects a duplicate.
        generate_unique_id_function=lambda route: route.name,
    )
    problems.install(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        max_batch_bytes=settings.max_batch_body_bytes,
    )
    app.add_middleware(HttpMetrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Idempotency-Key", "X-API-Key"],
            expose_headers=["Location", "Retry-After", "Idempotent-Replayed"],
        )
    # operations first: its /jobs/bulk must not be taken for a job id by jobs' routes.
    for router in (operations.router, jobs.router, job_types.router, queues.router):
        app.include_router(router, prefix="/api")
    app.include_router(uploads.router, prefix="/api")
    app.include_router(batches.router, prefix="/api")
    app.include_router(health.router)
    app.include_router(ops.router)
    # These two stay last: the web app takes what no route above owns, and the
    # method fallback answers HEAD, OPTIONS and 405 for every path (api/methods.py).
    table = methods.MethodTable(lambda: app.routes)
    app.router.routes.append(spa.SpaRoute(reserved=table.reserved))
    app.router.routes.append(methods.MethodFallback(table, router=app.router))

    def cached_document() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.document(app)
        return app.openapi_schema

    app.openapi = cached_document  # type: ignore[method-assign]
    return app


app = create_app()
