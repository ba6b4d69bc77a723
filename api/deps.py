"""Route dependencies as named types; tests swap them via app.dependency_overrides.

They are ``async def`` although nothing in them awaits: FastAPI runs a plain
``def`` dependency in the thread pool, one more thread hop per dependency per
request (measured: ~9% of the API's CPU per GET). None of them blocks.
"""

from __future__ import annotations

import hmac
import importlib
from types import ModuleType
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Header, HTTPException

from core.service import Enqueue, EnqueueMany
from core.settings import settings

_tasks: ModuleType | None = None


async def _tasks_package() -> ModuleType:
    """The ``tasks`` package, imported on first use and in a worker thread: importing
    it loads Celery's config, which resolves the queue URLs (a GetQueueUrl call), so
    neither importing the API nor the event loop waits on SQS."""
    global _tasks
    if _tasks is None:
        _tasks = await anyio.to_thread.run_sync(importlib.import_module, "tasks")
    return _tasks


async def get_enqueue() -> Enqueue:
    return (await _tasks_package()).enqueue_job


async def key_owner(
    x_api_key: Annotated[
        str | None,
        Header(description="Required when the server runs in API-key mode (BATCHLAB_API_KEYS)."),
    ] = None,
) -> str | None:
    """The owner id of the caller's API key; None in open mode (no keys configured)."""
    if not settings.api_keys:
        return None
    if x_api_key:
        for key, owner in settings.api_keys.items():
            if hmac.compare_digest(key.encode(), x_api_key.encode()):  # constant time
                return owner
    raise HTTPException(
        401, "a valid X-API-Key header is required", headers={"WWW-Authenticate": "ApiKey"}
    )


async def get_enqueue_many() -> EnqueueMany:
    return (await _tasks_package()).enqueue_many


EnqueueDep = Annotated[Enqueue, Depends(get_enqueue)]
EnqueueManyDep = Annotated[EnqueueMany, Depends(get_enqueue_many)]
KeyOwnerDep = Annotated[str | None, Depends(key_owner)]
