"""/api/job-types: what can be submitted, with an example payload each.

Public in every mode, the one /api route without a key: the types are code, not
tenant data (the OpenAPI document, public too, describes them), and the web app's
New job form needs them before its user has typed a key.
"""

from fastapi import APIRouter

from core.jobs import service
from core.jobs.job import JobTypeInfo

router = APIRouter(prefix="/job-types", tags=["job-types"])


@router.get("", response_model=list[JobTypeInfo])
def list_job_types() -> list[JobTypeInfo]:
    """The registered job types. Public: no key needed, even in API-key mode."""
    return service.list_job_types()
