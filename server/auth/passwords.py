"""Password hashing with Argon2id (argon2-cffi).

Every process uses argon2-cffi's recommended defaults, and hashes made with weaker parameters
are upgraded at the next successful sign-in (see `needs_rehash`). `JINGLIN_PASSWORD_PROFILE=fast`
selects cheap parameters instead, for test suites and simulations (they hash and check hundreds
of demo passwords, and start servers of their own): a server started with it says so in a
warning, as it must never run a real district so (its stored hashes would be cheap to crack).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_PROFILES = {
    "standard": PasswordHasher(),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
PROFILE = "fast" if os.environ.get("JINGLIN_PASSWORD_PROFILE") == "fast" else "standard"
_hasher = _PROFILES[PROFILE]

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


@cache
def unknown_user_hash() -> str:
    """A hash made with this process's parameters, to check a password against when the username
    is unknown: the refusal then takes the time a known user's does (a fixed hash with other
    parameters gave the name away by timing under the fast profile, 6 ms against 190 ms)."""
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash; never raises on bad input."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password_async(password_hash: str, password: str) -> bool:
    """`verify_password` in a worker thread: Argon2 takes ~0.1 s and must not stall the event loop."""
    return await asyncio.to_thread(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
