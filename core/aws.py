"""boto3 clients: one per service per process, built lazily.

Celery forks its pool after importing our modules, and boto3 sessions must not
be shared across processes, so clients are keyed by PID and never built at
import time. A boto3 *client* is thread-safe, so the API's thread pool shares one.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

from core.cost import meter
from core.settings import settings

# Count every AWS request made from this process, kombu's included (core.cost.meter).
meter.install()

_lock = threading.Lock()
_clients: dict[tuple[int, str], Any] = {}
_api_limits = False


def use_api_limits() -> None:
    """Give this process's clients the API's tighter bounds (issue 12, item 16).

    A worker can wait and retry; an API request has a client waiting on it, so
    with a frozen backend it must answer 503 within 3 s (one attempt of at most
    connect + read timeout). Call it before the first client is built (api.main).
    """
    global _api_limits
    _api_limits = True


def client_config() -> Config:
    if _api_limits:
        connect, read, attempts = (settings.api_aws_connect_timeout,
                                   settings.api_aws_read_timeout, settings.api_aws_max_attempts)
    else:
        connect, read, attempts = (settings.aws_connect_timeout, settings.aws_read_timeout,
                                   settings.aws_max_attempts)
    # parameter_validation=False: every request's parameters are built by our code from
    # input pydantic has already validated at the edge, and AWS validates them again;
    # botocore's client-side pass cost ~75 µs of CPU per job PutItem.
    return Config(
        region_name=settings.aws_region,
        connect_timeout=connect,
        read_timeout=read,
        # total_max_attempts counts the first try; botocore's max_attempts counts retries
        # only (so the old "2 attempts" were 3, and a frozen backend took 3 × 3 s = 9 s).
        retries={"total_max_attempts": attempts, "mode": "standard"},
        max_pool_connections=max(10, settings.api_threads),
        parameter_validation=False,
    )


def client(service: str) -> Any:
    """The process's client for ``service`` ("dynamodb", "sqs", "sns", "s3")."""
    key = (os.getpid(), service)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            session = boto3.session.Session()
            config = client_config()
            if service == "s3":
                # Presigned URLs signed with SigV4, which every region accepts (SigV2 is
                # refused in regions opened since 2014 and for KMS-encrypted objects).
                config = config.merge(Config(signature_version="s3v4"))
            found = session.client(service, config=config)
            _clients[key] = found
        return found
