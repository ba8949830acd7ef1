"""Sign-in throttling: failed attempts counted per account and per client address in Redis."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from server.runtime import redis_keys

WINDOW_S = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30


def _key(kind: str, value: str) -> str:
    # Hashed so usernames and addresses do not sit in Redis in clear.
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return redis_keys.login_failures(kind, digest)


class LoginThrottle:
    """Refuses sign-in attempts after too many recent failures."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def blocked(self, account: str, address: str) -> bool:
        """True when the account or the address has failed too often in the window."""
        account_failures, address_failures = await self.redis.mget(_key("account", account), _key("address", address))
        return (int(account_failures or 0) >= MAX_FAILURES_PER_ACCOUNT
                or int(address_failures or 0) >= MAX_FAILURES_PER_ADDRESS)

    async def failed(self, account: str, address: str) -> None:
        """Count one failed attempt."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in (_key("account", account), _key("address", address)):
                pipe.incr(key)
                # Sliding window: the count lasts WINDOW_S after the latest failure (EXPIRE NX needs Redis 7).
                pipe.expire(key, WINDOW_S)
            await pipe.execute()

    async def succeeded(self, account: str) -> None:
        """A successful sign-in clears the account's count (not the address's)."""
        await self.redis.delete(_key("account", account))
