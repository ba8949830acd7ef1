"""The route table: every HTTP endpoint of the server in one place."""

from __future__ import annotations

from server.api_models import HealthOut
from server.openapi import openapi
from server.routing import Route
from server.views import health

ROUTES: list[Route] = [
    Route("GET", "/healthz", health.healthz, "Readiness of the server, database and Redis", "operations",
          response=HealthOut, errors=(503,)),
    Route("GET", "/metrics", health.metrics, "Prometheus metrics", "operations",
          response_content_type="text/plain"),
    Route("GET", "/api/v1/openapi.json", openapi, "This OpenAPI document", "operations"),
]
