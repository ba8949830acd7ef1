"""Password hashing with Argon2id (argon2-cffi).

`JINGLIN_PASSWORD_PROFILE=fast` selects cheap parameters for test suites only (they hash
hundreds of demo passwords); servers use argon2-cffi's recommended defaults, and hashes made
with weaker parameters are upgraded at the next successful sign-in (see `needs_rehash`).
"""

from __future__ import annotations

import asyncio
import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_PROFILES = {
    "standard": PasswordHasher(),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
_hasher = _PROFILES.get(os.environ.get("JINGLIN_PASSWORD_PROFILE", "standard"), _PROFILES["standard"])

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher.hash(password)


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
