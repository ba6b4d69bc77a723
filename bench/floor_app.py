"""The smallest FastAPI app that makes the read benchmark's backend call: a reference for
what uvicorn + FastAPI + the thread-pool hop cost, apart from BatchLab's own code.
``bench/read.py --floor`` runs it beside the API; it is not part of the product.

    GET /thread/{job_id}  a sync route: FastAPI runs it in its thread pool, as the API's
                          routes run (the blocking boto3 call must not hold the loop)
    GET /loop/{job_id}    an async route calling boto3 on the event loop: no thread hop,
                          but the loop is blocked for the whole call, so the process serves
                          one request at a time (a reference for concurrency 1 only)

Both make the API's call (eventually consistent GetItem with ReturnConsumedCapacity) with
one plain boto3 client and return the item as JSON.
"""

from __future__ import annotations

import json
import os

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


def _get(job_id: str) -> Response:
    item = _ddb.get_item(
        TableName=TABLE,
        Key={"JobId": {"S": job_id}},
        ConsistentRead=False,
        ReturnConsumedCapacity="TOTAL",
    ).get("Item")
    if item is None:
        raise HTTPException(404)
    return Response(json.dumps(item), media_type="application/json")


@app.get("/thread/{job_id}")
def in_thread(job_id: str) -> Response:
    return _get(job_id)


@app.get("/loop/{job_id}")
async def on_loop(job_id: str) -> Response:
    return _get(job_id)
