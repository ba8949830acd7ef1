"""Liveness and readiness (`/healthz`) and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import shutil

from aiohttp import web
from sqlalchemy import text

from server.http import app_keys
from server.http.errors import ApiError
from server.http.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0


async def _database_ok(app: web.Application) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), app[app_keys.DB_ENGINE].connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any failure means "not ok"; the reason goes to the log only
        log.warning("database health check failed", extra={"error": type(exc).__name__})
        return False


async def _redis_ok(app: web.Application) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return bool(await app[app_keys.REDIS].ping())
    except Exception as exc:
        log.warning("redis health check failed", extra={"error": type(exc).__name__})
        return False


async def healthz(request: web.Request) -> web.Response:
    """200 when the database and Redis answer; 503 naming the failing part otherwise."""
    database_ok, redis_ok = await asyncio.gather(_database_ok(request.app), _redis_ok(request.app))
    body: dict[str, object] = {
        "status": "ok" if database_ok and redis_ok else "unavailable",
        "database": "ok" if database_ok else "unavailable",
        "redis": "ok" if redis_ok else "unavailable",
    }
    body.update(_disk(request.app))
    if database_ok and redis_ok:
        return web.json_response(body)
    failing = [name for name, ok in (("database", database_ok), ("redis", redis_ok)) if not ok]
    body["error"] = {"code": "unavailable", "message": f"{' and '.join(failing)} unavailable"}
    return web.json_response(body, status=503)


def _disk(app: web.Application) -> dict[str, object]:
    """A warning (not a failure: the server still serves) when the data volume runs low on space;
    recording uploads are refused below the same threshold (JINGLIN_MIN_FREE_DISK_MB). Nothing is
    added while there is space, so the healthy answer keeps its shape."""
    settings = app[app_keys.SETTINGS]
    try:
        free_mb = shutil.disk_usage(settings.data_dir).free // (1024 * 1024)
    except OSError:
        return {}  # no data dir yet: nothing written there either
    if settings.min_free_disk_mb <= 0 or free_mb >= settings.min_free_disk_mb:
        return {}
    log.warning("data volume low on space", extra={"free_mb": free_mb, "min_free_mb": settings.min_free_disk_mb})
    return {"disk": "low", "disk_free_mb": free_mb, "warnings": ["disk_low"]}


def _may_read_metrics(request: web.Request) -> bool:
    settings = request.app[app_keys.SETTINGS]
    token = settings.metrics_token
    if token and hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return True
    try:
        remote = ipaddress.ip_address(request.remote or "")
    except ValueError:  # a unix socket has no address
        return False
    return any(remote in ipaddress.ip_network(network) for network in settings.metrics_networks)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition of the app's registry (JINGLIN_METRICS_NETWORKS or JINGLIN_METRICS_TOKEN)."""
    if not _may_read_metrics(request):
        raise ApiError(403, "forbidden", "无权读取监控指标")
    response = web.Response(body=request.app[app_keys.METRICS].render())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
