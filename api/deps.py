"""Route dependencies as named types; tests swap them via app.dependency_overrides.

They are ``async def`` although nothing in them awaits: FastAPI runs a plain
``def`` dependency in the thread pool, one more thread hop per dependency per
request (measured: ~9% of the API's CPU per GET). None of them blocks.

Access (README "Access"): with no key configured (open mode) every caller may do
everything. With tenant keys (``BATCHLAB_API_KEYS``) or operator keys
(``BATCHLAB_ADMIN_KEYS``) configured, a request to a protected route needs
``X-API-Key``: a tenant acts only on its own jobs; an operator on every job and on
the operator-only routes. The two ``APIKeyHeader`` instances read the same header;
they are two schemes only so that the OpenAPI document says which key an
operation needs (``ApiKey``: a tenant or operator key; ``OperatorKey``).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader

from core.jobs.service import Enqueue, EnqueueMany
from core.settings import settings

_tasks: ModuleType | None = None

API_KEY_HEADER = "X-API-Key"

_any_key = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    auto_error=False,
    description=(
        "A tenant key (BATCHLAB_API_KEYS: acts as its owner, on its own jobs only) or an "
        "operator key (BATCHLAB_ADMIN_KEYS: acts on every owner's jobs). Required only in "
        "API-key mode; in open mode (no keys configured) it is not needed."
    ),
)
_operator_key = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="OperatorKey",
    auto_error=False,
    description=(
        "An operator key (BATCHLAB_ADMIN_KEYS), sent as X-API-Key. A tenant key gets 403. "
        "Required only in API-key mode."
    ),
)

OPERATOR_ONLY = (
    "**Operator only** in API-key mode: needs an operator key (`BATCHLAB_ADMIN_KEYS`) in "
    "`X-API-Key`; a tenant key gets 403, no key 401. Open in open mode (no keys configured)."
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: ``open`` (open mode), a ``tenant`` (``name`` = its owner id)
    or an ``operator`` (``name`` = the operator's name, for the logs)."""

    role: Literal["open", "tenant", "operator"]
    name: str | None = None

    @property
    def owner(self) -> str | None:
        """The only owner this caller may act for; None = any owner."""
        return self.name if self.role == "tenant" else None


def _digest(key: str) -> bytes:
    # Compare fixed-length digests: compare_digest on the raw keys would still
    # reveal through timing whether the lengths differ.
    return hashlib.sha256(key.encode()).digest()


def identify(key: str | None) -> Caller:
    """The caller behind ``key``; 401 in API-key mode when the key is missing or unknown."""
    if not settings.keyed:
        return Caller("open")
    if key:
        given = _digest(key)
        for known, name in settings.admin_keys.items():
            if hmac.compare_digest(_digest(known), given):
                return Caller("operator", name)
        for known, owner in settings.api_keys.items():
            if hmac.compare_digest(_digest(known), given):
                return Caller("tenant", owner)
    raise HTTPException(
        401, f"a valid {API_KEY_HEADER} header is required", headers={"WWW-Authenticate": "ApiKey"}
    )


async def caller(key: Annotated[str | None, Depends(_any_key)]) -> Caller:
    return identify(key)


async def operator(key: Annotated[str | None, Depends(_operator_key)]) -> Caller:
    """An operator (or anyone in open mode); 403 for a tenant."""
    found = identify(key)
    if found.role == "tenant":
        raise HTTPException(403, "this endpoint needs an operator key (BATCHLAB_ADMIN_KEYS)")
    return found


async def key_owner(found: Annotated[Caller, Depends(caller)]) -> str | None:
    """The owner the caller is confined to: a tenant's owner id; None for an
    operator or in open mode (any job, the request names its ownerId)."""
    return found.owner


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


async def get_enqueue_many() -> EnqueueMany:
    return (await _tasks_package()).enqueue_many


EnqueueDep = Annotated[Enqueue, Depends(get_enqueue)]
EnqueueManyDep = Annotated[EnqueueMany, Depends(get_enqueue_many)]
CallerDep = Annotated[Caller, Depends(caller)]
OperatorDep = Annotated[Caller, Depends(operator)]
KeyOwnerDep = Annotated[str | None, Depends(key_owner)]
