"""Route dependencies as named types; tests swap them via app.dependency_overrides."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException

from core.service import Enqueue, EnqueueMany
from core.settings import settings


def get_enqueue() -> Enqueue:
    # Imported here so that importing the API does not load Celery's config
    # (and resolve queue URLs) before the app starts.
    from tasks import enqueue_job

    return enqueue_job


def key_owner(
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


def get_enqueue_many() -> EnqueueMany:
    from tasks import enqueue_many

    return enqueue_many


EnqueueDep = Annotated[Enqueue, Depends(get_enqueue)]
EnqueueManyDep = Annotated[EnqueueMany, Depends(get_enqueue_many)]
KeyOwnerDep = Annotated[str | None, Depends(key_owner)]
