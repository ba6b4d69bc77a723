"""The OpenAPI document, generated in-process in both access modes (issue 12, item 9)."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

from api import openapi
from api.main import create_app
from core.jobs import job_types
from core.jobs.job_types import job_type
from core.settings import settings


def document() -> dict:
    return openapi.document(create_app())


def variants(doc: dict) -> dict[str, dict]:
    schemas = doc["components"]["schemas"]
    return {ref["$ref"].rsplit("/", 1)[1]: schemas[ref["$ref"].rsplit("/", 1)[1]]
            for ref in schemas["JobCreate"]["oneOf"]}


def test_open_mode_requires_the_owner(monkeypatch):
    monkeypatch.setattr(settings, "api_keys", {})
    doc = document()
    validate(doc)
    assert all("ownerId" in v["required"] for v in variants(doc).values())


def test_api_key_mode_takes_the_owner_from_the_key(monkeypatch):
    monkeypatch.setattr(settings, "api_keys", {"k1": "alice"})
    doc = document()
    validate(doc)
    assert all("ownerId" not in v["required"] for v in variants(doc).values())
    owner = next(p for p in doc["paths"]["/api/jobs"]["get"]["parameters"] if p["name"] == "ownerId")
    assert owner["required"] is False


def test_a_type_registered_later_is_in_the_next_document(monkeypatch):
    class ShoutPayload(BaseModel):
        words: list[str] = Field(min_length=1)

    monkeypatch.setattr(job_types, "REGISTRY", dict(job_types.REGISTRY))
    job_type("shout", payload=ShoutPayload, example={"words": ["hi"]}, description="Shout.")(
        lambda payload: {"shouted": [w.upper() for w in payload.words]}
    )
    doc = document()
    validate(doc)
    shout = doc["components"]["schemas"]["JobCreate.shout"]
    assert shout["properties"]["payload"]["$ref"] == "#/components/schemas/ShoutPayload"
    assert doc["components"]["schemas"]["ShoutPayload"]["required"] == ["words"]
    assert "shout" in doc["components"]["schemas"]["JobCreate"]["discriminator"]["mapping"]


@pytest.mark.parametrize("name", ["FieldError", "Problem"])
def test_every_referenced_problem_schema_is_defined(name):
    assert name in document()["components"]["schemas"]
