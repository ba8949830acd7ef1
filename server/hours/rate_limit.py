"""Per-kiosk, per-minute request budgets kept in Redis (phone numbers, check-ins)."""

from __future__ import annotations

from redis.asyncio import Redis


async def within_limit(redis: Redis, key: str, limit: int) -> bool:
    """Count one request against a per-minute budget; False once it is spent (refused ones count)."""
    count = await redis.incr(key)
    if count == 1:
        await redis.expire(key, 60)
    return int(count) <= limit
