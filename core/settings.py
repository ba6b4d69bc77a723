"""The one settings object. Every module reads ``settings``; none reads os.environ.

AWS endpoints are deliberately *not* settings: boto3 reads the standard
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables itself, so the
same code talks to moto locally and to real AWS when they are unset.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BATCHLAB_", extra="ignore")

    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("BATCHLAB_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )

    # DynamoDB
    table_name: str = "Jobs"
    owner_index_name: str = "OwnerCreatedAt"
    job_ttl_hours: float = Field(default=6.0, gt=0)

    # S3: payloads and results too large for DynamoDB, and uploads (core/storage/objects.py).
    # Bucket names are global on AWS: set a unique one there.
    bucket_name: str = "batchlab-data"
    # Uploads (core/storage/uploads.py): a client PUTs its file straight to S3 with a presigned
    # URL; above the threshold it gets a multipart plan (parts of upload_part_bytes, S3's
    # minimum is 5 MiB), which browsers and flaky links finish more reliably than one
    # long PUT. The size the client announces is signed into each URL (Content-Length).
    upload_max_bytes: int = Field(default=1024**3, ge=1, le=5 * 1024**4)
    upload_multipart_threshold_bytes: int = Field(default=64 * 1024**2, ge=1)
    upload_part_bytes: int = Field(default=16 * 1024**2, ge=5 * 1024**2, le=5 * 1024**3)
    upload_url_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    upload_content_types: list[str] = [
        "text/csv", "application/csv", "text/plain", "application/vnd.ms-excel",
        "application/x-ndjson", "application/jsonl",  # batch inputs (issue 14)
    ]
    # A payload or result larger than this (compact UTF-8 JSON) goes to S3, a smaller
    # one that does not fit the job's hot item to a data item (core/jobs/jobdata.py: 8 KB
    # is where S3's PUT + GET cost less than DynamoDB's per-KB write and read).
    s3_threshold_bytes: int = Field(default=8 * 1024, ge=0, le=300 * 1024)
    # The largest result a job may have (in S3); above it the job ends FAILED, saying so.
    # Handlers build their result in the worker's memory, hence a bound well under RAM.
    max_result_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=5 * 1024**3)

    # Batches (issue 14, core/batches/): a second table, key (BatchId, Part). Its meta
    # item (Part "meta") alone carries OwnerId + CreatedAt, so only it is in the KEYS_ONLY
    # owner-created index; counter and roll-up items are keyed apart (README "Batches").
    batches_table_name: str = "Batches"
    batches_owner_index_name: str = "owner-created"
    # Fairness: at most this many of one batch's children are in the jobs queue or running
    # (rounded up to whole groups of 10, one SendMessageBatch each); refilled as groups end.
    batch_window: int = Field(default=20, ge=10, le=1000)
    batch_max_inline_items: int = Field(default=1000, ge=1, le=10_000)
    # How often a RUNNING batch is re-checked by a delayed sweep task (heals a crash
    # between a child's terminal write and its count, a lost refill, a dead ingestion).
    batch_sweep_seconds: int = Field(default=30, ge=1, le=900)
    # Ingestion of an uploaded file works in slices of about this long, then hands over
    # to a fresh task message (no task outlives the queue's visibility timeout).
    batch_ingest_slice_seconds: float = Field(default=20.0, ge=1, le=300)
    # Webhooks: HMAC-SHA256 key of X-BatchLab-Signature; schemes a webhookUrl may use
    # (add "http" for local tests only).
    webhook_secret: str = "change-me"
    webhook_schemes: list[str] = ["https"]
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=30)

    # SQS
    queue_name: str = "batchlab-jobs"
    dlq_name: str = "batchlab-jobs-dlq"
    visibility_timeout: int = Field(default=120, ge=10, le=43200)
    # A running attempt's lease in DynamoDB, renewed by the worker's heartbeat every
    # third of it. A job is taken over only once its lease has expired (its holder is
    # dead), so this bounds how long a dead pool child's job waits; it is separate from
    # (and shorter than) the visibility timeout, which duplicate deliveries never beat.
    lease_seconds: int = Field(default=30, ge=3, le=43200)
    max_receive_count: int = Field(default=10, ge=1, le=1000)
    # Workers look at the DLQ this often and mark its jobs FAILED (0 = never).
    dlq_reconcile_seconds: float = Field(default=30.0, ge=0)
    wait_time_seconds: int = Field(default=20, ge=0, le=20)
    # The API sends a job's message before it writes the job; a worker waits this long
    # (by the message's age) for a job that is not written yet, then drops the message.
    dispatch_grace_seconds: float = Field(default=180.0, ge=1, le=43_200)
    # Queue URLs are normally resolved once with GetQueueUrl; set them to skip that call.
    queue_url: str | None = None
    dlq_url: str | None = None

    # Job types from your own package (README "Your own job types"): modules the API and
    # the workers import at start-up (core/plugins), where @job_type registers them.
    # Comma-separated, not JSON (NoDecode), so `BATCHLAB_JOB_MODULES=acme.jobs` just works.
    job_modules: Annotated[list[str], NoDecode] = []

    # Worker
    worker_prefetch: int = Field(default=10, ge=1, le=10)
    polling_interval: float = Field(default=0.1, ge=0)
    default_max_attempts: int = Field(default=3, ge=1, le=20)

    # API
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_batch_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The largest a new job's DynamoDB item may be (core/storage/item_size.py): DynamoDB's
    # 400 KB limit less 64 KiB kept for the job's own status writes (history entries,
    # LastError, timestamps over up to 20 attempts). A larger job is a 413.
    max_job_item_bytes: int = Field(default=400 * 1024 - 64 * 1024, ge=1024, le=400 * 1024)
    retry_after_seconds: int = Field(default=1, ge=1)
    api_threads: int = Field(default=64, ge=1)
    # FastAPI's native OpenTelemetry (spans, metrics, logs through the global providers).
    # Off: the API's metrics are Prometheus (/metrics), there is no OTel SDK installed,
    # and FastAPI would look the three providers up on every request (~0.07 ms per request).
    otel_enabled: bool = False
    # API keys → owner ids (JSON, e.g. {"k3y": "alice"}). Empty = open mode: the
    # client names its ownerId. Set = every /api request needs X-API-Key, and the
    # owner comes from the key, never from the request.
    api_keys: dict[str, str] = {}
    # Operator keys → operator names (JSON, e.g. {"0pk3y": "ops-anna"}); the name goes
    # to the logs. An operator may call the operator-only endpoints (redrive, the global
    # queue and cost views, /metrics) and act on every owner's jobs. Any key configured
    # (tenant or operator) = API-key mode; none = open mode, where everything is open.
    admin_keys: dict[str, str] = {}
    # Browser origins allowed by CORS; empty = no cross-origin access.
    cors_origins: list[str] = []
    # The simulate type's `crash` knob kills the worker process: for tests and demos only.
    simulate_crash_enabled: bool = False
    # SIGTERM: how long a worker lets its running job finish before giving it back.
    # Celery 5.7's soft shutdown waits this long even when the job finishes sooner
    # (a worker holding no job stops at once: tasks/shutdown.py).
    # 25 s fits inside the 30 s that ECS (stopTimeout) and Kubernetes
    # (terminationGracePeriodSeconds) allow by default before SIGKILL, leaving ~5 s
    # for the cold shutdown; see the README's "Graceful shutdown".
    shutdown_grace_seconds: float = Field(default=25.0, ge=0)
    frontend_dist: str = "frontend/dist/batchlab/browser"
    flower_url: str = "http://127.0.0.1:5555"
    # /api/queues: job counts come from a capped, cached Scan (see core/operations/stats.py).
    stats_cache_seconds: float = Field(default=5.0, ge=0)
    stats_max_items: int = Field(default=10_000, ge=100)
    # A tenant's own counts: one Query on the owner index plus BatchGetItem (≤ 100 keys
    # each) of its newest jobs, capped here (see core/operations/stats.py for the read cost).
    owner_stats_max_items: int = Field(default=1_000, ge=100, le=100_000)
    # GET /api/jobs with a filter on status, type or name: jobs read (0.5 RRU each) per
    # request at most; a page that did not fill by then comes back short with a cursor.
    list_max_examined: int = Field(default=500, ge=10, le=10_000)
    # Bulk actions (core/operations/bulk.py): jobs acted on per request at most, and
    # jobs read to find them (one owner's index, or a Scan of every owner's for an
    # operator who names none).
    bulk_max_jobs: int = Field(default=1_000, ge=1, le=1_000)
    bulk_max_examined: int = Field(default=10_000, ge=100, le=100_000)

    # Celery events over SNS fanout (Flower's live view), up to ten per SNS PublishBatch.
    events_enabled: bool = True
    # How long an event may wait for nine more before its batch is sent (tasks/sns_batch.py).
    events_batch_seconds: float = Field(default=0.25, ge=0, le=5)
    # Names this process's event/reply queues (default: the host name); set it where host
    # names change on every start (containers), see tasks/events_sqs.py.
    events_node: str | None = None
    flower_user: str | None = None
    flower_password: str | None = None

    # Metrics and cost metering
    prometheus_multiproc_dir: str | None = Field(
        default=None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR")
    )
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)  # 0 = no worker endpoint
    meters_table_name: str = "BatchLabMeters"
    meter_flush_seconds: float = Field(default=10.0, ge=0)  # 0 = never write meters
    # Which DynamoDB capacity units /api/cost prices: "computed" from item sizes
    # (core.cost.capacity), "reported" by the backend, or "auto": reported by AWS itself,
    # computed elsewhere (moto reports a flat 1.0 / 0.5 whatever the size).
    meter_units: Literal["auto", "reported", "computed"] = "auto"
    # The window GET /api/cost covers by default (s); at most a day (the meters' TTL).
    cost_window_seconds: int = Field(default=3600, ge=60, le=86_400)
    # Prices for GET /api/cost (USD, us-east-1 on-demand list prices).
    price_sqs_per_million: float = 0.40
    price_sns_per_million: float = 0.50
    price_dynamodb_write_per_million: float = 0.625
    price_dynamodb_read_per_million: float = 0.125
    # S3 requests: PUT/COPY/POST/LIST $0.005 and GET/HEAD $0.0004 per 1,000 (storage apart).
    price_s3_write_per_million: float = 5.0
    price_s3_read_per_million: float = 0.40

    # AWS client behaviour of workers, the bootstrap and tools: bounded, with a retry,
    # so a worker rides out a blip and still notices a dead backend.
    aws_connect_timeout: float = 1.0
    aws_read_timeout: float = 3.0
    aws_max_attempts: int = Field(default=3, ge=1)  # in all, the first try included
    # The API's clients (core.aws.use_api_limits): a client waits for the answer, so a
    # dead backend must be a 503 within 3 s in all (connect + read, one attempt; a
    # retry would double it). The 503 carries Retry-After: the client retries.
    api_aws_connect_timeout: float = 0.5
    api_aws_read_timeout: float = 2.5
    api_aws_max_attempts: int = Field(default=1, ge=1)

    @field_validator("job_modules", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @model_validator(mode="after")
    def _dlq_differs(self) -> Settings:
        if self.dlq_name == self.queue_name:
            raise ValueError("BATCHLAB_DLQ_NAME must differ from BATCHLAB_QUEUE_NAME")
        return self

    @model_validator(mode="after")
    def _keys_have_one_role(self) -> Settings:
        # A key in both maps would make its role depend on lookup order.
        both = set(self.api_keys) & set(self.admin_keys)
        if both:
            raise ValueError(
                f"{len(both)} key(s) are in both BATCHLAB_API_KEYS and BATCHLAB_ADMIN_KEYS"
            )
        if any(not key for key in (*self.api_keys, *self.admin_keys)):
            raise ValueError("an API or operator key must not be empty")
        return self

    @property
    def keyed(self) -> bool:
        """API-key mode: some key is configured, so every non-public request needs one."""
        return bool(self.api_keys or self.admin_keys)


settings = Settings()
