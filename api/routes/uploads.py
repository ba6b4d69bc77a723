"""/api/uploads: presigned S3 uploads for files too large for a job's payload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import KeyOwnerDep
from core.jobs import service
from core.storage import uploads
from core.storage.uploads import UploadComplete, UploadCreate, UploadDone, UploadPlan

router = APIRouter(prefix="/uploads", tags=["uploads"])

_PROBLEM = {"content": {"application/problem+json": {}}}


@router.post(
    "",
    status_code=201,
    response_model=UploadPlan,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM,
               422: _PROBLEM, 503: _PROBLEM},
)
def create_upload(request: UploadCreate, key_owner: KeyOwnerDep) -> Response:
    """Presigned URL(s) to PUT a file straight to S3, then reference `key` in a job.

    Up to `BATCHLAB_UPLOAD_MULTIPART_THRESHOLD_BYTES` one PUT (`kind: single`); above
    it one PUT per part, then `POST completeUrl` with each part's ETag (`kind:
    multipart`). Each URL accepts the announced size only, until `expiresAt`.
    """
    owner = service.resolve_owner(request.owner_id, key_owner)
    plan = uploads.plan_upload(request=request, owner_id=owner)
    return Response(plan.model_dump_json(by_alias=True), status_code=201,
                    media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post(
    "/{upload_id}/complete",
    response_model=UploadDone,
    responses={400: _PROBLEM, 401: _PROBLEM, 404: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM,
               422: _PROBLEM, 503: _PROBLEM},
)
def complete_upload(
    upload_id: Annotated[str, Path(min_length=1, max_length=1024,
                                   pattern=uploads.UPLOAD_ID_PATTERN)],
    request: UploadComplete,
    key_owner: KeyOwnerDep,
) -> UploadDone:
    """Join a multipart upload's parts (`parts`: each part's number and the ETag its PUT
    answered). Another tenant's upload is 404."""
    return uploads.complete_upload(upload_id=upload_id, request=request, owner_id=key_owner)
