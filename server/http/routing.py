"""The route table type: every HTTP endpoint with the facts its OpenAPI entry needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Param:
    """A query or path parameter."""

    name: str
    location: str = "query"  # query | path
    description: str = ""
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path template, handler and its documentation."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    roles: tuple[str, ...] = ("public",)
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    # A multipart/form-data upload with one file field of this name (instead of a JSON body).
    upload_field: str | None = None
    # A raw binary body of this content type (e.g. a recording chunk, video/webm).
    raw_body: str | None = None
    response: type[BaseModel] | None = None
    response_content_type: str = "application/json"
    # Extra (non-error) success statuses and the error statuses the endpoint can return.
    errors: tuple[int, ...] = ()
    success_status: int = 200
    # Further success statuses answering like success_status (a repeated upload 200, a range 206).
    also_success: tuple[int, ...] = ()


def add_routes(app: web.Application, routes: Sequence[Route]) -> None:
    """Register every route of the table with the app's router."""
    for route in routes:
        if route.method == "GET":
            # HEAD answers as GET without the body (health probes and link checkers use it).
            app.router.add_get(route.path, route.handler, allow_head=True)
        else:
            app.router.add_route(route.method, route.path, route.handler)
