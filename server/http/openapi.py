"""The OpenAPI 3.1 document, generated from the route table so it cannot drift from the code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from server.http import app_keys
from server.http.api_models import ErrorOut
from server.http.routing import Route

_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_ERROR_TEXT = {
    400: "Malformed request",
    401: "Not signed in",
    403: "Signed in, but this role may not do this",
    404: "No such object",
    409: "Conflicts with the current state",
    410: "Gone (purged)",
    413: "Body too large",
    416: "Range not satisfiable",
    422: "Validation failed",
    429: "Too many requests",
    503: "A dependency is unavailable",
    507: "The server's storage is full",
}


def build_openapi(routes: Sequence[Route], version: str) -> dict[str, Any]:
    """Build the OpenAPI document for the given route table."""
    models: set[type[BaseModel]] = {ErrorOut}
    for route in routes:
        models.update(m for m in (route.body, route.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    refs, definitions = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return refs[(model, "validation")]

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = _PATH_PARAM.sub(r"{\1}", route.path)
        operation: dict[str, Any] = {
            "summary": route.summary,
            "tags": [route.tag],
            "operationId": f"{route.method.lower()}_{route.handler.__name__}",
            "x-roles": list(route.roles),
            "parameters": [
                {
                    "name": p.name,
                    "in": p.location,
                    "required": p.required or p.location == "path",
                    "description": p.description,
                    "schema": p.schema,
                }
                for p in route.params
            ],
        }
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(route.body)}},
            }
        elif route.raw_body is not None:
            operation["requestBody"] = {"required": True, "content": {route.raw_body: {
                "schema": {"type": "string", "format": "binary"}}}}
        elif route.upload_field is not None:
            field = {"type": "string", "format": "binary"}
            operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": [route.upload_field], "properties": {route.upload_field: field}}}}}
        success: dict[str, Any] = {"description": "OK"}
        if route.response is not None:
            success["content"] = {route.response_content_type: {"schema": ref(route.response)}}
        elif route.response_content_type != "application/json":
            success["content"] = {route.response_content_type: {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {str(status): success for status in (route.success_status, *route.also_success)}
        # Any request may meet a database or Redis outage (server/http/errors.py answers 503).
        for status in sorted({*route.errors, 503}):
            responses[str(status)] = {
                "description": _ERROR_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": ref(ErrorOut)}},
            }
        operation["responses"] = responses
        paths.setdefault(path, {})[route.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {"title": "静邻帮办 API", "version": version},
        "paths": paths,
        "components": {"schemas": schemas},
    }


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document describing every HTTP endpoint (built once at startup)."""
    return web.json_response(request.app[app_keys.OPENAPI])
