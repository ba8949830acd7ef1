"""Typed keys for everything the application object holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.runtime.embedded_redis import EmbeddedRedis
from server.settings import Settings

if TYPE_CHECKING:
    from server.catalog.service import CatalogService
    from server.http.metrics import Metrics
    from server.queueing.service import QueueService

SETTINGS = web.AppKey("settings", Settings)
DB_ENGINE = web.AppKey("db_engine", AsyncEngine)
DB_SESSIONS = web.AppKey("db_sessions", async_sessionmaker[AsyncSession])
REDIS = web.AppKey("redis", aioredis.Redis)
CATALOG: web.AppKey[CatalogService] = web.AppKey("catalog")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
OPENAPI = web.AppKey("openapi", dict)
EMBEDDED_REDIS: web.AppKey[EmbeddedRedis | None] = web.AppKey("embedded_redis")
QUEUE: web.AppKey[QueueService] = web.AppKey("queue")
