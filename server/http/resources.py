"""Cleanup contexts: each creates one resource at startup, yields, and disposes it at shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web

from server.db.engine import make_engine, make_session_factory
from server.http import app_keys
from server.runtime.embedded_redis import EmbeddedRedis

log = logging.getLogger(__name__)

# Connections to Redis per process (pub/sub listeners hold one each) and how long a command may take,
# including the wait for a free connection.
REDIS_MAX_CONNECTIONS = 128
REDIS_TIMEOUT_S = 5.0


async def database(app: web.Application) -> AsyncIterator[None]:
    """The SQLAlchemy engine and session factory."""
    settings = app[app_keys.SETTINGS]
    engine = make_engine(settings.resolved_database_url)
    app[app_keys.DB_ENGINE] = engine
    app[app_keys.DB_SESSIONS] = make_session_factory(engine)
    yield
    await engine.dispose()


async def redis_connection(app: web.Application) -> AsyncIterator[None]:
    """A Redis client: to REDIS_URL, or to an embedded server this app starts and stops."""
    settings = app[app_keys.SETTINGS]
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url
    if settings.uses_embedded_redis:
        embedded = EmbeddedRedis(settings.ensure_data_dir())
        url = await embedded.start()
        log.info("embedded redis started", extra={"socket": str(embedded.socket_path)})
    # A blocking pool: a burst of concurrent commands (every WebSocket message may publish) waits a
    # moment for a free connection instead of failing with MaxConnectionsError ("unavailable").
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=REDIS_MAX_CONNECTIONS,
                                                    timeout=REDIS_TIMEOUT_S, health_check_interval=30,
                                                    socket_timeout=REDIS_TIMEOUT_S)
    client = aioredis.Redis.from_pool(pool)
    app[app_keys.REDIS] = client
    app[app_keys.EMBEDDED_REDIS] = embedded
    yield
    await client.aclose()
    if embedded is not None:
        await embedded.stop()
