"""The application factory."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from aiohttp import web

from server.acceptance.context import acceptance_context
from server.auth.middleware import authenticate, csrf_guard
from server.capture.context import capture_context
from server.catalog.service import catalog_context
from server.http import app_keys, resources
from server.http.errors import json_errors
from server.http.forwarded import forwarded_middleware
from server.http.metrics import Metrics
from server.http.openapi import build_openapi
from server.http.pages import missing_static, setup_pages
from server.http.routing import add_routes
from server.http.security_headers import security_headers
from server.queueing.reconciler import reconciler_context
from server.queueing.service import queue_context
from server.recording.context import recording_context
from server.reports.context import reports_context
from server.routes import ROUTES
from server.runtime.redis_keys import RedisKeys
from server.settings import Settings
from server.signaling.context import close_sockets_on_shutdown, signaling_context

# Requests bigger than this are refused before a handler reads them; uploads set their own limit.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def product_version() -> str:
    """The installed package version (or a development marker)."""
    try:
        return version("jinglin-bangban")
    except PackageNotFoundError:
        return "0.0.0+dev"


def create_app(settings: Settings) -> web.Application:
    """Build the aiohttp application for the given settings."""
    metrics = Metrics()
    app = web.Application(
        middlewares=[forwarded_middleware(settings), metrics.middleware(), json_errors,
                     missing_static, csrf_guard, authenticate],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app.on_response_prepare.append(security_headers)
    app[app_keys.SETTINGS] = settings
    app[app_keys.REDIS_KEYS] = RedisKeys(settings.redis_prefix)
    app[app_keys.METRICS] = metrics
    app[app_keys.OPENAPI] = build_openapi(ROUTES, product_version())
    app.cleanup_ctx.append(resources.database)
    app.cleanup_ctx.append(resources.redis_connection)
    app.cleanup_ctx.append(catalog_context)
    app.cleanup_ctx.append(queue_context)
    app.cleanup_ctx.append(reconciler_context)
    app.cleanup_ctx.append(signaling_context)
    app.on_shutdown.append(close_sockets_on_shutdown)
    app.cleanup_ctx.append(reports_context)
    app.cleanup_ctx.append(capture_context)
    app.cleanup_ctx.append(recording_context)
    app.cleanup_ctx.append(acceptance_context)
    add_routes(app, ROUTES)
    setup_pages(app)
    return app
