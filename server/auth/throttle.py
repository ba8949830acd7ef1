"""Sign-in throttling: failed attempts counted per account and per client address in Redis."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from server.runtime.redis_keys import RedisKeys

WINDOW_S = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30


def _digest(value: str) -> str:
    # Hashed so usernames and addresses do not sit in Redis in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginThrottle:
    """Refuses sign-in attempts after too many recent failures."""

    def __init__(self, redis: aioredis.Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys

    def _key(self, kind: str, value: str) -> str:
        return self.keys.login_failures(kind, _digest(value))

    async def blocked(self, account: str, address: str) -> bool:
        """True when the account or the address has failed too often in the window."""
        account_failures, address_failures = await self.redis.mget(self._key("account", account),
                                                                   self._key("address", address))
        return (int(account_failures or 0) >= MAX_FAILURES_PER_ACCOUNT
                or int(address_failures or 0) >= MAX_FAILURES_PER_ADDRESS)

    async def failed(self, account: str, address: str) -> None:
        """Count one failed attempt."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in (self._key("account", account), self._key("address", address)):
                pipe.incr(key)
                # Sliding window: the count lasts WINDOW_S after the latest failure (EXPIRE NX needs Redis 7).
                pipe.expire(key, WINDOW_S)
            await pipe.execute()

    async def succeeded(self, account: str) -> None:
        """A successful sign-in clears the account's count (not the address's)."""
        await self.redis.delete(self._key("account", account))
