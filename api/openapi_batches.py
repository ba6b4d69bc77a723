"""The batch submit's OpenAPI schema, as it is validated (issue 14).

FastAPI documents ``BatchCreate`` from its model: ``type`` any string, ``items`` any
objects. Validation is stricter (each item against its type's payload model, exactly
one of ``items`` / ``object``, ``ownerId`` required in open mode, the webhook's
schemes), so ``BatchCreate`` becomes one variant per registered job type, like
``JobCreate`` (api/openapi.py), reusing the payload components it added.
"""

from __future__ import annotations

import re
from typing import Any

from core.jobs import job_types
from core.settings import settings

REF = "#/components/schemas/{model}"


def document_batch_types(schema: dict[str, Any], *, owner_required: bool) -> None:
    components = schema["components"]["schemas"]
    base = components.get("BatchCreate")
    if base is None:
        return
    jobs = components["JobCreate"]["discriminator"]["mapping"]
    props = base["properties"]
    owner = components[jobs[next(iter(jobs))].rsplit("/", 1)[1]]["properties"]["ownerId"]
    schemes = "|".join(re.escape(s) for s in settings.webhook_schemes)
    webhook = {"anyOf": [{"type": "string", "minLength": 8, "maxLength": 2048,
                          "pattern": rf"^({schemes})://[^\s]+$"}, {"type": "null"}],
               "description": "Called once when the batch ends (README \"Batches\")."}
    variants = {}
    for name in job_types.REGISTRY:
        payload = components[jobs[name].rsplit("/", 1)[1]]["properties"]["payload"]
        common = {
            "name": props["name"], "type": {"type": "string", "enum": [name]},
            "ownerId": owner, "allOrNothing": props["allOrNothing"], "webhookUrl": webhook,
        }
        required = ["name", "type"] + (["ownerId"] if owner_required else [])
        inline = {"type": "array", "minItems": 1, "maxItems": settings.batch_max_inline_items,
                  "items": {k: v for k, v in payload.items() if k != "examples"},
                  "description": "The items, each a payload of the type."}
        variants[f"BatchCreate.{re.sub(r'[^A-Za-z0-9_-]', '_', name)}"] = {
            "title": f"BatchCreate ({name})",
            "oneOf": [
                {"type": "object", "title": "inline items",
                 "properties": {**common, "items": inline},
                 "required": [*required, "items"], "additionalProperties": False},
                {"type": "object", "title": "an uploaded file",
                 "properties": {**common, "object": props["object"], "format": props["format"]},
                 "required": [*required, "object"], "additionalProperties": False},
            ],
        }
    components.update(variants)
    components["BatchCreate"] = {
        "title": "BatchCreate",
        "description": "A batch: inline items, or an uploaded JSON Lines / CSV file, of one type.",
        "oneOf": [{"$ref": REF.format(model=n)} for n in variants],
    }
    if owner_required:  # GET /api/batches?ownerId=: required in open mode, as for jobs
        for parameter in schema["paths"].get("/api/batches", {}).get("get", {}).get("parameters", []):
            if parameter["name"] == "ownerId" and parameter["in"] == "query":
                parameter["required"] = True
                any_of = parameter["schema"].pop("anyOf", None)
                if any_of:
                    parameter["schema"] |= next(s for s in any_of if s.get("type") == "string")
