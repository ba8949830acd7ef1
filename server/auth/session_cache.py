"""Recently resolved sign-in sessions, so a reconnecting WebSocket does not query the database.

Only WebSocket upgrades use it (`authenticate`); every other request reads the database.
Revocation is honoured at once, because every way of ending a session sends a close notice
(logout, sign out everywhere, a kiosk's token exchange ending older sessions, administration and
`jinglin` CLI disabling or rotating): every process drops the address's entries when the notice
arrives (`forget_address`), the revoking process before it publishes. What sends no notice (a
session reaching its idle or absolute expiry, a row changed by hand) is seen on upgrades within
`TTL_S`; a socket opened meanwhile is closed by the keep-alive sweep, which reads the database for
every open socket every 20 s.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.principal import Principal
from server.auth.sessions import resolve_session_hashes
from server.runtime.coalesce import Coalescer

TTL_S = 60.0
MAX_ENTRIES = 50_000


class SessionCache:
    """Principal per session token hash, for a short time; bounded (oldest entries go first)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_s: float = TTL_S,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.sessions = sessions
        self._lookups: Coalescer[str, Principal] = Coalescer(self._resolve_many)
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, hashed: str) -> Principal | None:
        """The cached principal of this token hash, if resolved less than `ttl_s` ago."""
        entry = self._entries.get(hashed)
        if entry is None or entry[0] <= time.monotonic():
            if entry is not None:
                del self._entries[hashed]
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    async def resolve(self, hashed: str) -> Principal | None:
        """The principal of a live session: from the cache, or read with the others asked meanwhile."""
        principal = self.get(hashed)
        if principal is None:
            principal = await self._lookups.get(hashed)
        return principal

    async def _resolve_many(self, hashes: list[str]) -> dict[str, Principal]:
        async with self.sessions() as session, session.begin():
            resolved = await resolve_session_hashes(session, hashes)
        for hashed, principal in resolved.items():
            self.put(hashed, principal)
        return resolved

    def put(self, hashed: str, principal: Principal) -> None:
        """Remember a principal resolved from the database just now."""
        self._entries[hashed] = (time.monotonic() + self.ttl_s, principal)
        self._entries.move_to_end(hashed)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, hashed: str) -> None:
        """Drop one session (it was revoked)."""
        self._entries.pop(hashed, None)

    def forget_address(self, address: str, hashed: str | None = None) -> None:
        """Drop the sessions of a principal address (`kiosk:3`), or only the one with `hashed`."""
        if hashed is not None:
            self.forget(hashed)
            return
        for key in [k for k, (_, p) in self._entries.items() if p.address == address]:
            del self._entries[key]


SESSION_CACHE: web.AppKey[SessionCache] = web.AppKey("session_cache", SessionCache)
