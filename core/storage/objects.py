"""S3: the bucket for job data too large to keep in DynamoDB (claim-check).

Job payloads and results over a size threshold, and client uploads, live in one
bucket; DynamoDB items and SQS messages only ever carry their keys. Its lifecycle
rule expires objects with the jobs that reference them (TTL), in whole days, the
unit S3 expiry works in. Keys:

* ``jobs/<JobId>/payload.json``, ``jobs/<JobId>/result.json``: a job's own data;
* ``uploads/<OwnerId>/<uuid>``: files a client uploaded with a presigned PUT.

Like every AWS call, these go through the process's one client (core.aws), so
the meter counts them; boto3 reads ``AWS_ENDPOINT_URL(_S3)`` itself (moto locally).
"""

from __future__ import annotations

import math
from typing import Any

from botocore.exceptions import ClientError

from core.aws import client
from core.cost.meter import meter
from core.settings import settings

JOBS_PREFIX = "jobs/"
UPLOADS_PREFIX = "uploads/"


def bucket() -> str:
    return settings.bucket_name


def job_key(job_id: str, name: str) -> str:
    """The key of one of a job's objects (``payload.json``, ``result.json``)."""
    return f"{JOBS_PREFIX}{job_id}/{name}"


def put_bytes(key: str, data: bytes, *, content_type: str = "application/json") -> None:
    client("s3").put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)


def get_bytes(key: str) -> bytes:
    return client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read()


def open_stream(key: str, *, start: int = 0) -> Any:
    """The object's body as a stream (botocore StreamingBody): read it in chunks, in
    bounded memory, e.g. ``codecs.getreader("utf-8")(open_stream(key))``; from byte
    ``start`` on (a ranged GET: batch ingestion resumes at its checkpoint)."""
    extra = {"Range": f"bytes={start}-"} if start else {}
    return client("s3").get_object(Bucket=bucket(), Key=key, **extra)["Body"]


def open_sized_stream(key: str) -> tuple[Any, int]:
    """(body stream, size in bytes) of the object; (None, 0) if there is no such object."""
    try:
        found = client("s3").get_object(Bucket=bucket(), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None, 0
        raise
    return found["Body"], int(found["ContentLength"])


def size_of(key: str) -> int | None:
    """The object's size in bytes; None if there is no such object."""
    try:
        return int(client("s3").head_object(Bucket=bucket(), Key=key)["ContentLength"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def presigned_get(key: str, *, expires_seconds: int = 3600, filename: str | None = None) -> str:
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    return client("s3").generate_presigned_url(
        "get_object", Params=params, ExpiresIn=expires_seconds
    )


def presigned_put(
    key: str, *, content_type: str, expires_seconds: int = 3600, content_length: int | None = None
) -> str:
    """A URL that PUTs ``key``. With ``content_length`` the length is a signed header,
    so S3 refuses a body of any other size (the size the API agreed to)."""
    # The client's PUT never goes through a process's meter: count it when handed out
    # (core.cost.costs prices it as an S3 PUT request).
    meter().count("s3", "PutObject:presigned", "job")
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key, "ContentType": content_type}
    if content_length is not None:
        params["ContentLength"] = content_length
    return client("s3").generate_presigned_url(
        "put_object", Params=params, ExpiresIn=expires_seconds
    )


# Multipart uploads (core/storage/uploads.py): create, one presigned URL per part, complete.


def create_multipart(key: str, *, content_type: str) -> str:
    """Start a multipart upload of ``key``; returns its UploadId."""
    return client("s3").create_multipart_upload(
        Bucket=bucket(), Key=key, ContentType=content_type
    )["UploadId"]


def presigned_part(
    key: str, *, upload_id: str, part_number: int, content_length: int, expires_seconds: int
) -> str:
    meter().count("s3", "UploadPart:presigned", "job")  # the client's PUT, as above
    return client("s3").generate_presigned_url(
        "upload_part",
        Params={"Bucket": bucket(), "Key": key, "UploadId": upload_id,
                "PartNumber": part_number, "ContentLength": content_length},
        ExpiresIn=expires_seconds,
    )


def upload_part(key: str, *, upload_id: str, part_number: int, data: bytes) -> str:
    """Upload one part of a multipart upload (a batch's results file); its ETag."""
    return client("s3").upload_part(Bucket=bucket(), Key=key, UploadId=upload_id,
                                     PartNumber=part_number, Body=data)["ETag"]


def list_parts(key: str, *, upload_id: str) -> list[tuple[int, int]]:
    """(PartNumber, Size) of each part uploaded so far (the first 1,000)."""
    found = client("s3").list_parts(Bucket=bucket(), Key=key, UploadId=upload_id)
    return [(p["PartNumber"], p["Size"]) for p in found.get("Parts", [])]


def complete_multipart(key: str, *, upload_id: str, parts: list[tuple[int, str]]) -> None:
    """Join the uploaded parts, given as (PartNumber, ETag) in ascending order."""
    client("s3").complete_multipart_upload(
        Bucket=bucket(), Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
    )


def lifecycle_days() -> int:
    """Objects outlive their jobs by less than a day: S3 expires in whole days."""
    return max(1, math.ceil(settings.job_ttl_hours / 24))


def ensure_bucket() -> None:
    """Create the bucket if missing; set its lifecycle rule and CORS (idempotent).

    CORS lets the web app PUT to a presigned URL from its own origin: the URL's
    signature is the authorisation, so any origin may use it, and ETag is exposed
    for multipart uploads.
    """
    s3 = client("s3")
    try:
        s3.head_bucket(Bucket=bucket())
    except ClientError:
        spec: dict[str, Any] = {"Bucket": bucket()}
        if settings.aws_region != "us-east-1":
            spec["CreateBucketConfiguration"] = {"LocationConstraint": settings.aws_region}
        try:
            s3.create_bucket(**spec)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise
    s3.put_public_access_block(
        Bucket=bucket(),
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket(),
        LifecycleConfiguration={"Rules": [
            {"ID": "expire-with-jobs", "Status": "Enabled", "Filter": {"Prefix": ""},
             "Expiration": {"Days": lifecycle_days()},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        ]},
    )
    s3.put_bucket_cors(
        Bucket=bucket(),
        CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"],
             "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600},
        ]},
    )
