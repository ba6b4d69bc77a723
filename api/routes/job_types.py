"""/api/job-types: what can be submitted, with an example payload each."""

from fastapi import APIRouter

from core import service
from core.job import JobTypeInfo

router = APIRouter(prefix="/job-types", tags=["job-types"])


@router.get("", response_model=list[JobTypeInfo])
def list_job_types() -> list[JobTypeInfo]:
    return service.list_job_types()
