"""Validation messages name their field (issue 15: "Field required" said which?)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from api.main import app

# No `with`: the app's lifespan (meter flusher, AWS limits) is not needed for a 422,
# and neither request reaches AWS.
client = TestClient(app)


def test_a_missing_owner_is_named():
    body = client.get("/api/jobs").json()
    assert body["errors"] == [{"field": "ownerId", "message": "ownerId: field required"}]


def test_a_bad_query_parameter_is_named_in_its_message():
    body = client.get("/api/jobs", params={"ownerId": "a", "limit": 0}).json()
    assert body["status"] == 422
    [error] = body["errors"]
    assert error["field"] == "limit"
    assert error["message"] == "limit: input should be greater than or equal to 1"
