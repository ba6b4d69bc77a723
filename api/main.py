"""The FastAPI app: ``uvicorn api.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI

from api import problems, spa
from api.limits import BodySizeLimit
from api.routes import health, job_types, jobs
from core.settings import settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Routes are sync (boto3 blocks); they run in anyio's thread pool, sized here.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="BatchLab",
        summary="Asynchronous batch jobs: FastAPI → DynamoDB → Celery over SQS → workers.",
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    api = APIRouter(prefix="/api")
    api.include_router(jobs.router)
    api.include_router(job_types.router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(spa.router)
    return app


app = create_app()
