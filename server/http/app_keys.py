"""Typed keys for everything the application object holds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.runtime.embedded_redis import EmbeddedRedis
from server.runtime.redis_keys import RedisKeys
from server.settings import Settings

if TYPE_CHECKING:
    from server.http.metrics import Metrics

SETTINGS = web.AppKey("settings", Settings)
DB_ENGINE = web.AppKey("db_engine", AsyncEngine)
DB_SESSIONS = web.AppKey("db_sessions", async_sessionmaker[AsyncSession])
REDIS = web.AppKey("redis", aioredis.Redis)
REDIS_KEYS = web.AppKey("redis_keys", RedisKeys)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
OPENAPI = web.AppKey("openapi", dict)
EMBEDDED_REDIS: web.AppKey[EmbeddedRedis | None] = web.AppKey("embedded_redis")
# Closes, in every process, the live sockets of a principal ("kiosk:3"), or of one of its sign-in
# sessions (token hash). Set by the signaling context; called by sign-out.
SocketCloser = Callable[[str, "str | None"], Awaitable[None]]
CLOSE_SOCKETS: web.AppKey[SocketCloser] = web.AppKey("close_sockets")
