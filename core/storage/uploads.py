"""Uploads: files a client puts straight into S3 with presigned URLs (claim-check).

A job never carries a large file through the API: the client asks for an upload
(:func:`plan_upload`), PUTs the bytes to S3 itself, then submits a job whose payload
names the object's key (csv-summary's ``{"object": key}``). The API signs the URLs,
so it needs s3:PutObject on ``uploads/*`` but never sees the bytes.

Keys are ``uploads/<OwnerId>/<uuid>/<filename>``: the owner prefix is what lets a
submit check that a tenant references only its own uploads (:func:`check_reference`).
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from core.errors import InvalidPayload, InvalidUploadParts, UploadNotFound, UploadTooLarge
from core.jobs.job import OWNER_PATTERN
from core.settings import settings
from core.storage import objects

# S3's upload ids are URL-safe tokens; anything else is no upload of ours (404 or 422,
# never a request S3 or moto might choke on).
UPLOAD_ID_PATTERN = r"^[A-Za-z0-9._~+=-]+$"
# S3 allows at most 10,000 parts per multipart upload.
MAX_PARTS = 10_000
KEY_PATTERN = r"^uploads/[A-Za-z0-9._@-]+/[0-9a-f]{32}/[A-Za-z0-9._-]{1,100}$"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class UploadCreate(_Camel):
    """What POST /api/uploads takes: the file the client is about to upload."""

    filename: str = Field(min_length=1, max_length=255)
    # The document states the accepted types and the limit (a pattern, a maximum), so
    # clients and schemathesis know them; the checks below are the ones applied.
    content_type: str = Field(
        min_length=1, max_length=255,
        description="The file's media type (BATCHLAB_UPLOAD_CONTENT_TYPES); sent as "
        "Content-Type with the upload.",
        json_schema_extra={"pattern": "^(" + "|".join(
            t.replace(".", "\\.").replace("+", "\\+") for t in settings.upload_content_types) + ")$"},
    )
    size: int = Field(ge=1, description="The file's size in bytes; the URLs accept this size "
                      "only. Over the limit: 413.",
                      json_schema_extra={"maximum": settings.upload_max_bytes})
    # Required in open mode; in API-key mode the owner comes from the key.
    owner_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=OWNER_PATTERN)

    @field_validator("content_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        media = value.split(";")[0].strip().lower()
        if media not in settings.upload_content_types:
            raise ValueError(f"uploads may be {', '.join(settings.upload_content_types)}")
        return media


class UploadPart(_Camel):
    part_number: int
    url: str
    size: int


class UploadPlan(_Camel):
    """How to upload: one PUT to ``url`` (``kind`` single), or each part's PUT then
    POST ``completeUrl`` with the parts' ETags (``kind`` multipart)."""

    kind: Literal["single", "multipart"]
    key: str = Field(description="Reference it in a job's payload, e.g. csv-summary's `object`.")
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(description="Headers to send with the single PUT.")
    expires_at: datetime
    url: str | None = None
    upload_id: str | None = None
    part_size: int | None = None
    parts: list[UploadPart] = []
    complete_url: str | None = None


class CompletedPart(_Camel):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    # An ETag is a quoted hex digest: printable ASCII only (anything else could never
    # match, and would reach S3's XML as noise).
    etag: str = Field(min_length=1, max_length=1024, pattern=r"^[!-~]+$")


class UploadComplete(_Camel):
    key: str = Field(max_length=1024, pattern=KEY_PATTERN)
    parts: list[CompletedPart] = Field(min_length=1, max_length=MAX_PARTS)


class UploadDone(_Camel):
    key: str
    size: int


def owner_prefix(owner_id: str) -> str:
    return f"{objects.UPLOADS_PREFIX}{owner_id}/"


def _safe_filename(name: str) -> str:
    # Keys are ASCII and path-free: the client's name is kept only as a hint.
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    safe = _UNSAFE.sub("_", base).lstrip(".")[:100]
    return safe or "upload"


def plan_upload(*, request: UploadCreate, owner_id: str) -> UploadPlan:
    """The presigned URL(s) for one upload; UploadTooLarge over ``upload_max_bytes``.

    Steps: pick the key under the owner's prefix; up to the multipart threshold, sign
    one PUT (Content-Type and Content-Length signed); above it, CreateMultipartUpload
    and sign one PUT per part (each part's length signed), the last part the rest.
    """
    if request.size > settings.upload_max_bytes:
        raise UploadTooLarge(size=request.size, limit=settings.upload_max_bytes)
    key = f"{owner_prefix(owner_id)}{uuid.uuid4().hex}/{_safe_filename(request.filename)}"
    seconds = settings.upload_url_seconds
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    headers = {"Content-Type": request.content_type}
    if request.size <= settings.upload_multipart_threshold_bytes:
        url = objects.presigned_put(key, content_type=request.content_type,
                                    expires_seconds=seconds, content_length=request.size)
        return UploadPlan(kind="single", key=key, headers=headers, expires_at=expires_at, url=url)
    part_size = max(settings.upload_part_bytes, math.ceil(request.size / MAX_PARTS))
    count = math.ceil(request.size / part_size)
    upload_id = objects.create_multipart(key, content_type=request.content_type)
    parts = []
    for number in range(1, count + 1):
        size = min(part_size, request.size - (number - 1) * part_size)
        url = objects.presigned_part(key, upload_id=upload_id, part_number=number,
                                     content_length=size, expires_seconds=seconds)
        parts.append(UploadPart(part_number=number, url=url, size=size))
    return UploadPlan(
        kind="multipart", key=key, headers=headers, expires_at=expires_at,
        upload_id=upload_id, part_size=part_size, parts=parts,
        complete_url=f"/api/uploads/{quote(upload_id, safe='')}/complete",
    )


def complete_upload(*, upload_id: str, request: UploadComplete, owner_id: str | None) -> UploadDone:
    """Join a multipart upload's parts. ``owner_id`` (a tenant) may complete only its
    own uploads: another owner's is not found, as its jobs are."""
    if owner_id is not None and not request.key.startswith(owner_prefix(owner_id)):
        raise UploadNotFound(f"no upload {upload_id} of yours")
    parts = sorted((p.part_number, p.etag) for p in request.parts)
    try:
        # ListParts first: an unknown upload is NoSuchUpload (a 404) before anything is
        # joined (moto answers CompleteMultipartUpload of one with a 500), and the parts'
        # sizes are checked against the limit whoever signed them.
        uploaded = objects.list_parts(request.key, upload_id=upload_id)
        wanted = {number for number, _ in parts}
        total = sum(size for number, size in uploaded if number in wanted)
        if total > settings.upload_max_bytes:
            raise InvalidUploadParts(f"the parts add up to {total} bytes; uploads may be at "
                                     f"most {settings.upload_max_bytes} bytes")
        objects.complete_multipart(request.key, upload_id=upload_id, parts=parts)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchUpload", "404", "NoSuchKey"):
            raise UploadNotFound(f"no upload {upload_id} for this key (finished, aborted "
                                 "or expired)") from exc
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"):
            raise InvalidUploadParts(exc.response["Error"].get("Message") or code) from exc
        raise
    size = objects.size_of(request.key)
    if size is None:
        raise UploadNotFound(f"no object {request.key}")
    return UploadDone(key=request.key, size=size)


def check_reference(*, key: str, owner_id: str, field: str) -> None:
    """A job's payload may name only an existing upload of its own owner.

    Raises InvalidPayload (422 naming ``payload.<field>``) for another owner's key or
    a missing object (one HeadObject: never uploaded, or expired).
    """
    if not key.startswith(owner_prefix(owner_id)):
        message = f"not one of your uploads: keys of {owner_id} start with {owner_prefix(owner_id)}"
        raise InvalidPayload([{"loc": (field,), "msg": message}])
    if objects.size_of(key) is None:
        message = "no uploaded object with this key (never uploaded, or expired)"
        raise InvalidPayload([{"loc": (field,), "msg": message}])
