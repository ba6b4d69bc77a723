"""The OpenAPI document: FastAPI's, made valid and exact (issue 12, item 9).

FastAPI documents ``JobCreate`` as it is validated: ``type`` any string,
``payload`` any object, ``ownerId`` optional, because the type's payload model is
chosen at run time (core.jobs.service._validated). The document says what is really
required instead, built from the job-type registry when the document is
generated (types can be registered at import time):

- ``JobCreate`` is one of ``JobCreate.<type>``, discriminated by ``type``, each
  with that type's payload model (its own component, e.g. ``TextPayload``);
- ``ownerId`` is required in open mode, and optional in API-key mode (the key's
  owner), in the job and in ``GET /api/jobs``: the document follows the server's
  configuration;
- every error is a Problem (api/problems.py).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from api import openapi_batches, problems
from core.jobs import job_types
from core.settings import settings

REF = "#/components/schemas/{model}"
_OWNER_FIELD = "ownerId"


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                         routes=app.routes)
    problems.document_problems(schema)
    owner_required = not settings.api_keys
    document_job_types(schema, owner_required=owner_required)
    document_owner_parameter(schema, owner_required=owner_required)
    openapi_batches.document_batch_types(schema, owner_required=owner_required)
    return schema


def component_name(job_type: str) -> str:
    return "JobCreate." + re.sub(r"[^A-Za-z0-9_-]", "_", job_type)


def add_components(schema: dict[str, Any], new: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, value in new.items():
        if name in components and components[name] != value:
            raise ValueError(f"two different schemas are named {name!r} in the OpenAPI document")
        components[name] = value


def document_job_types(schema: dict[str, Any], *, owner_required: bool) -> None:
    """Replace ``JobCreate`` with a union of one variant per registered job type."""
    registry = job_types.REGISTRY  # as it is now, after every import-time registration
    components = schema["components"]["schemas"]
    base = components["JobCreate"]
    models = list({id(t.payload_model): t.payload_model for t in registry.values()}.values())
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    add_components(schema, defs.get("$defs", {}))
    owner = dict(base["properties"][_OWNER_FIELD])
    if owner_required:
        owner = next(s for s in owner.pop("anyOf") if s.get("type") == "string") | owner
        owner["description"] = "The job's owner (this server runs in open mode: no API keys)."
    else:
        owner["description"] = "Optional: the API key's owner; if given it must be that owner."
    required = ["name", "type", "payload"] + ([_OWNER_FIELD] if owner_required else [])
    variants = {}
    for name, job_type in registry.items():
        variants[component_name(name)] = {
            "type": "object",
            "title": f"JobCreate ({name})",
            "description": job_type.description,
            "properties": {
                "name": base["properties"]["name"],
                "type": {"type": "string", "enum": [name]},
                "payload": refs[(job_type.payload_model, "validation")]
                | {"examples": [job_type.example]},
                _OWNER_FIELD: owner,
            },
            "required": required,
            "additionalProperties": False,
        }
    add_components(schema, variants)
    components["JobType"] = {"type": "string", "enum": list(registry),
                             "description": "The registered job types (GET /api/job-types)."}
    components["JobCreate"] = {
        "title": "JobCreate",
        "description": "A job to run: its type decides the payload's schema.",
        "oneOf": [{"$ref": REF.format(model=name)} for name in variants],
        "discriminator": {
            "propertyName": "type",
            "mapping": {t: REF.format(model=component_name(t)) for t in registry},
        },
    }
    # The batch takes the same jobs (each validated on its own at run time).
    components["JobBatch"]["properties"]["jobs"]["items"] = {"$ref": REF.format(model="JobCreate")}
    if "JobTypeInfo" in components:
        components["JobTypeInfo"]["properties"]["type"] = {"$ref": REF.format(model="JobType")}


def document_owner_parameter(schema: dict[str, Any], *, owner_required: bool) -> None:
    """``GET /api/jobs?ownerId=``: required in open mode."""
    if not owner_required:
        return
    for parameter in schema["paths"].get("/api/jobs", {}).get("get", {}).get("parameters", []):
        if parameter["name"] == _OWNER_FIELD and parameter["in"] == "query":
            parameter["required"] = True
            any_of = parameter["schema"].pop("anyOf", None)
            if any_of:
                parameter["schema"] |= next(s for s in any_of if s.get("type") == "string")
