"""Route dependencies as named types; tests swap them via app.dependency_overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from core.service import Enqueue


def get_enqueue() -> Enqueue:
    # Imported here so that importing the API does not load Celery's config
    # (and resolve queue URLs) before the app starts.
    from tasks import enqueue_job

    return enqueue_job


EnqueueDep = Annotated[Enqueue, Depends(get_enqueue)]
