"""The smallest apps that make the read benchmark's backend call: references for what
uvicorn, FastAPI and the thread-pool hop cost, apart from BatchLab's own code.
``bench/read.py --floor`` runs them beside the API; they are not part of the product.

``app``, the smallest FastAPI app (``uvicorn floor_app:app``):

    GET /thread/{job_id}  a sync route: FastAPI runs it in its thread pool, as the API's
                          routes run (the blocking boto3 call must not hold the loop)
    GET /loop/{job_id}    an async route calling boto3 on the event loop: no thread hop,
                          but the loop is blocked for the whole call, so the process serves
                          one request at a time (a reference for concurrency 1 only)

``bare``, no framework at all (``uvicorn floor_app:bare``): a plain ASGI callable that takes
the id from the path and makes the call in a thread pool. What uvicorn and the HTTP round
trip cost by themselves.

    GET /asgi/{job_id}

All make the API's call (eventually consistent GetItem with ReturnConsumedCapacity) with
one plain boto3 client and return the item as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from fastapi import FastAPI, HTTPException, Response

TABLE = "Jobs"

app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
_ddb = boto3.session.Session().client(
    "dynamodb",
    config=Config(
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        max_pool_connections=64,
        parameter_validation=False,
    ),
)


def _item(job_id: str) -> dict[str, Any] | None:
    return _ddb.get_item(
        TableName=TABLE,
        Key={"JobId": {"S": job_id}},
        ConsistentRead=False,
        ReturnConsumedCapacity="TOTAL",
    ).get("Item")


def _get(job_id: str) -> Response:
    item = _item(job_id)
    if item is None:
        raise HTTPException(404)
    return Response(json.dumps(item), media_type="application/json")


@app.get("/thread/{job_id}")
def in_thread(job_id: str) -> Response:
    return _get(job_id)


@app.get("/loop/{job_id}")
async def on_loop(job_id: str) -> Response:
    return _get(job_id)


_pool = ThreadPoolExecutor(max_workers=64)


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """GET /asgi/{job_id} as a plain ASGI app (anything else: 404)."""
    if scope["type"] != "http":  # lifespan: nothing to set up
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    item = None
    if scope["method"] == "GET" and path.startswith("/asgi/"):
        item = await asyncio.get_running_loop().run_in_executor(_pool, _item, path[6:])
    body = json.dumps(item).encode() if item is not None else b""
    await send({
        "type": "http.response.start",
        "status": 200 if item is not None else 404,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
