"""Sign-in throttling in Redis: a growing delay per account, a hard limit per client address.

Every attempt is reserved before its password or token is checked, in one atomic Redis command,
so simultaneous attempts cannot all pass a check that each of them would pass alone:

- per account, `SET NX` on the account's slot: one attempt at a time. A failure keeps the slot
  for a delay that grows with the account's recent failures (none for the first
  `FREE_FAILURES`, then 1 s, 2 s, 4 s … up to `MAX_DELAY_S`). The account is never locked: a
  stranger who types wrong passwords slows it down by at most `MAX_DELAY_S`, while guessing is
  held to about one password per `MAX_DELAY_S` (288 a day) for as long as it goes on;
- per client address, `INCR` of the address's counter for that kind of sign-in (staff and kiosk
  tokens apart, so a guessing kiosk page does not shut staff out of the same office), refused
  above `MAX_FAILURES_PER_ADDRESS`; a success gives its reservation back.

Counters last `WINDOW_S` after the latest failure. Usernames and addresses are hashed.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import redis.asyncio as aioredis

from server.runtime.redis_keys import RedisKeys

WINDOW_S = 15 * 60
FREE_FAILURES = 3
MAX_DELAY_S = 300
MAX_FAILURES_PER_ADDRESS = 30
# Longer than any password check takes; the slot is released as soon as the check is over, and
# this bound only matters when the process dies in between.
ATTEMPT_LEASE_MS = 10_000


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def account_delay_s(failures: int) -> int:
    """Seconds an account waits after its `failures`-th recent failure."""
    if failures <= FREE_FAILURES:
        return 0
    return int(min(2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_S))


class Throttled(Exception):
    """The attempt was refused before checking; `retry_after_s` says when to try again."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


@dataclass
class Attempt:
    """A reserved sign-in attempt: report its outcome with `failed()` or `succeeded()`."""

    redis: aioredis.Redis
    keys: RedisKeys
    address_key: str
    account: str | None

    async def failed(self) -> None:
        """Keep the address's reservation; hold the account's slot for its grown delay."""
        if self.account is None:
            return
        failures_key = self.keys.login_failures("account", self.account)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(failures_key)
            pipe.expire(failures_key, WINDOW_S)
            failures, _ = await pipe.execute()
        delay = account_delay_s(int(failures))
        slot = self.keys.login_slot(self.account)
        if delay:
            await self.redis.set(slot, 1, ex=delay)
        else:
            await self.redis.delete(slot)

    async def succeeded(self) -> None:
        """Give the address's reservation back; clear the account's failures and slot."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.decr(self.address_key)
            if self.account is not None:
                pipe.delete(self.keys.login_failures("account", self.account), self.keys.login_slot(self.account))
            left = (await pipe.execute())[0]
        if int(left) <= 0:
            # The count expired during the check: DECR made a new key without a TTL; remove it.
            await self.redis.delete(self.address_key)


class LoginThrottle:
    """Reserves sign-in attempts (see the module docstring)."""

    def __init__(self, redis: aioredis.Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def reserve(self, kind: str, address: str, account: str | None = None) -> Attempt:
        """Reserve one attempt of `kind` ("staff", "kiosk") from `address` for `account`; raises `Throttled`."""
        address_key = self.keys.login_failures(f"{kind}-address", _digest(address))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(address_key)
            pipe.expire(address_key, WINDOW_S)
            used, _ = await pipe.execute()
        if int(used) > MAX_FAILURES_PER_ADDRESS:
            await self.redis.decr(address_key)  # a refused attempt is not a failure
            raise Throttled(WINDOW_S)
        hashed = _digest(account) if account is not None else None
        if hashed is not None and not await self.redis.set(self.keys.login_slot(hashed), 1, px=ATTEMPT_LEASE_MS,
                                                            nx=True):
            await self.redis.decr(address_key)
            remaining_ms = await self.redis.pttl(self.keys.login_slot(hashed))
            raise Throttled(max(1, math.ceil(max(remaining_ms, 0) / 1000)))
        return Attempt(self.redis, self.keys, address_key, hashed)
