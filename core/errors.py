"""Domain errors. The API maps each to an HTTP problem; workers log them."""

from __future__ import annotations


class JobNotFound(Exception):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id}")
        self.job_id = job_id


class UnknownJobType(Exception):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown job type {name!r}; known types: {', '.join(sorted(known))}")
        self.name = name


class InvalidPayload(Exception):
    """The payload does not match its type's schema. ``errors`` are pydantic's."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__("the payload does not match the job type's schema")
        self.errors = errors


class JobConflict(Exception):
    """The job is not in a state that allows the request (e.g. cancel a finished job)."""


class InvalidCursor(Exception):
    pass


class BackendUnavailable(Exception):
    """DynamoDB or SQS could not be reached in bounded time."""


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before with a different request body."""


class MissingOwner(Exception):
    """No ownerId and no API key to take it from."""


class OwnerMismatch(Exception):
    """The request names an owner other than its API key's."""


class InvalidRequest(Exception):
    """One job of a batch does not validate. ``errors`` are pydantic's, relative to the job."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__("the job did not validate; see errors")
        self.errors = errors


class JobTooLarge(Exception):
    """The job, as it would be stored, is over the job item budget: it can never be stored."""

    def __init__(self, *, size: int, limit: int, index: int | None = None) -> None:
        who = "the job" if index is None else f"job {index} of the batch"
        super().__init__(
            f"{who} would take {size} bytes when stored; the limit is {limit} bytes "
            "(DynamoDB's 400 KB item limit, less room kept for the job's status updates)"
        )
        self.size = size
        self.limit = limit
        self.index = index


class ResultNotStored(Exception):
    """A finished job's result cannot be written into its item (too large for DynamoDB)."""


class UploadTooLarge(Exception):
    """An announced upload is over ``upload_max_bytes``."""

    def __init__(self, *, size: int, limit: int) -> None:
        super().__init__(f"the file is {size} bytes; uploads may be at most {limit} bytes")
        self.size = size
        self.limit = limit


class UploadNotFound(Exception):
    """No such multipart upload (finished, aborted, expired, or another owner's)."""


class InvalidUploadParts(Exception):
    """S3 refused to join the parts (a missing part, a wrong ETag, a part under 5 MiB)."""


class DataMissing(Exception):
    """A job's payload or result is referenced by its item but is not where it should be
    (expired with its TTL or lifecycle rule, or deleted)."""


class BatchNotFound(Exception):
    def __init__(self, batch_id: str) -> None:
        super().__init__(f"no batch with id {batch_id}")
        self.batch_id = batch_id


class BatchConflict(Exception):
    """The batch is not in a state that allows the request (cancel an ended batch,
    retry a batch with nothing failed)."""
