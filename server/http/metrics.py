"""Prometheus metrics, one registry per application so tests can run several apps."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from server.http.errors import route_template

request_log = logging.getLogger("server.requests")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    """The application's metric families."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "jinglin_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "jinglin_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    def render(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)

    def middleware(self) -> Middleware:
        """Middleware counting requests per route template (never per raw path: ids would explode).

        It also writes the request log (DEBUG): method, route template, status and time, never the
        raw path or query, which can carry what residents and strangers typed.
        """

        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                route = route_template(request)
                self.http_requests.labels(request.method, route, str(status)).inc()
                elapsed = time.perf_counter() - started
                self.http_latency.labels(request.method, route).observe(elapsed)
                request_log.debug("request", extra={"method": request.method, "route": route, "status": status,
                                                    "ms": round(elapsed * 1000, 1)})

        return count


CONTENT_TYPE = CONTENT_TYPE_LATEST
