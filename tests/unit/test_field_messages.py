"""Validation messages name their field (issue 15: "Field required" said which?)."""

from __future__ import annotations

import anyio
import httpx

from api.main import app


def get(path: str, **params) -> dict:
    """One request to the app in-process (no lifespan: neither request reaches AWS)."""
    async def call() -> dict:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.get(path, params=params)).json()

    return anyio.run(call)


def test_a_missing_owner_is_named():
    body = get("/api/jobs")
    assert body["errors"] == [{"field": "ownerId", "message": "ownerId: field required"}]


def test_a_bad_query_parameter_is_named_in_its_message():
    body = get("/api/jobs", ownerId="a", limit=0)
    assert body["status"] == 422
    [error] = body["errors"]
    assert error["field"] == "limit"
    assert error["message"] == "limit: input should be greater than or equal to 1"
