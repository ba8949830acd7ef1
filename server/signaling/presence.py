"""Which principals have a live connection, across every server process.

Each connection is a member of its principal's sorted set, scored by an expiry that heartbeats push
forward; a process that dies simply stops refreshing, so its connections age out on their own.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from server.runtime.redis_keys import RedisKeys

# A connection counts as present this long after its last heartbeat.
PRESENCE_TTL_S = 45.0


class Presence:
    """Connection registry in Redis."""

    def __init__(self, redis: aioredis.Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def touch(self, principal_key: str, connection_id: str) -> None:
        """Mark a connection alive (on connect and every heartbeat)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            self.touch_in(pipe, principal_key, connection_id)
            await pipe.execute()

    def touch_in(self, pipe: Pipeline, principal_key: str, connection_id: str) -> None:
        """Queue `touch`'s three commands on a pipeline (the welcome's one round trip)."""
        key = self.keys.presence(principal_key)
        now = time.time()
        pipe.zadd(key, {connection_id: now + PRESENCE_TTL_S})
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.expire(key, int(PRESENCE_TTL_S * 2))

    async def touch_many(self, connections: Iterable[tuple[str, str]]) -> None:
        """Mark many connections alive, as (principal key, connection id) pairs, in one round trip."""
        by_key: dict[str, list[str]] = defaultdict(list)
        for principal_key, connection_id in connections:
            by_key[principal_key].append(connection_id)
        if not by_key:
            return
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for principal_key, ids in by_key.items():
                key = self.keys.presence(principal_key)
                pipe.zadd(key, dict.fromkeys(ids, now + PRESENCE_TTL_S))
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.expire(key, int(PRESENCE_TTL_S * 2))
            await pipe.execute()

    async def leave(self, principal_key: str, connection_id: str) -> None:
        """Remove a closed connection."""
        await self.redis.zrem(self.keys.presence(principal_key), connection_id)

    async def leave_and_count(self, principal_key: str, connection_id: str) -> bool:
        """Remove a closed connection; True when the principal still has a live one (one round trip)."""
        key = self.keys.presence(principal_key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(key, connection_id)
            pipe.zcount(key, time.time(), "+inf")
            _, count = await pipe.execute()
        return bool(count)

    async def connection_ids(self, principal_key: str) -> set[str]:
        """Ids of the principal's live connections, in every process."""
        members = await self.redis.zrangebyscore(self.keys.presence(principal_key), time.time(), "+inf")
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def is_present(self, principal_key: str) -> bool:
        """True when the principal has at least one live connection anywhere."""
        return bool(await self.redis.zcount(self.keys.presence(principal_key), time.time(), "+inf"))
