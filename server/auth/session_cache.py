"""Recently resolved sign-in sessions, so a reconnecting WebSocket does not query the database.

Only WebSocket upgrades use it (`authenticate`); every other request reads the database.
Revocation is honoured at once, because every way of ending a session sends a close notice
(logout, sign out everywhere, a kiosk's token exchange ending older sessions, administration and
`jinglin` CLI disabling or rotating): every process drops the address's entries when the notice
arrives (`forget_address`), the revoking process before it publishes. What sends no notice (a
session reaching its idle or absolute expiry, a row changed by hand) is seen on upgrades within
`TTL_S`; a socket opened meanwhile is closed by the keep-alive sweep, which reads the database for
every open socket every 20 s.

Each process also keeps every live kiosk sign-in ready (`run_prefill`: all of them read in
batches of `PREFILL_CHUNK` every `PREFILL_EVERY_S`, without touching their last-seen time, so a prefill never keeps an
idle session alive): when a process fails, its kiosks' first connects to the other processes are
answered from memory instead of all reading the database at once. A revocation that arrives while
a batch is being read is not undone by it: entries of an address forgotten after the read began
are not stored.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.principal import Principal
from server.auth.sessions import live_kiosk_session_hashes, resolve_session_hashes
from server.runtime.coalesce import Coalescer
from server.runtime.periodic import run_periodically

TTL_S = 60.0
MAX_ENTRIES = 50_000
# Refreshed before the entries expire; at most this many kiosks are kept ready.
PREFILL_EVERY_S = 45.0
PREFILL_MAX = 20_000
# Sign-ins resolved per transaction of a prefill: building thousands of rows at once held the event
# loop for a few hundred milliseconds every PREFILL_EVERY_S (relay latency of the calls meanwhile).
PREFILL_CHUNK = 500
# How long a revocation is remembered to keep a batch read before it from storing the session.
FORGOTTEN_KEEP_S = 300.0


class SessionCache:
    """Principal per session token hash, for a short time; bounded (oldest entries go first)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_s: float = TTL_S,
                 max_entries: int = MAX_ENTRIES) -> None:
        self.sessions = sessions
        self._lookups: Coalescer[str, Principal] = Coalescer(self._resolve_many)
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        # address -> monotonic time of its last revocation notice (see `_store_batch`).
        self._forgotten: dict[str, float] = {}
        self.hits = 0
        self.misses = 0
        self.prefilled = 0

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
        began = time.monotonic()
        async with self.sessions() as session, session.begin():
            resolved = await resolve_session_hashes(session, hashes)
        self._store_batch(resolved, began)
        return resolved

    async def prefill(self) -> int:
        """Read every live kiosk sign-in (up to `PREFILL_MAX`) into the cache; how many were stored.

        The read is never committed: the rule's last-seen touch is not written, so being kept ready
        here does not keep a session alive."""
        began = time.monotonic()
        async with self.sessions() as session:
            hashes = await live_kiosk_session_hashes(session, PREFILL_MAX)
            await session.rollback()
        stored = 0
        for start in range(0, len(hashes), PREFILL_CHUNK):
            async with self.sessions() as session:
                resolved = await resolve_session_hashes(session, hashes[start:start + PREFILL_CHUNK])
                await session.rollback()
            # Entries of an address revoked since `began` are still left out, chunk by chunk.
            stored += self._store_batch(resolved, began)
            await asyncio.sleep(0)  # let relayed messages through between chunks
        self.prefilled += stored
        return stored

    async def run_prefill(self, stop: asyncio.Event, every_s: float = PREFILL_EVERY_S) -> None:
        """`prefill` now and every `every_s` until `stop` is set; a failed read is logged and retried."""
        await run_periodically(self.prefill, stop, every_s, name="kiosk sign-in prefill")

    def _store_batch(self, resolved: dict[str, Principal], began: float) -> int:
        """Store principals read by a batch that began at `began`, except those of addresses whose
        sign-in was revoked since (the read may have seen the row before the revocation)."""
        stored = 0
        for hashed, principal in resolved.items():
            if self._forgotten.get(principal.address, 0.0) >= began:
                continue
            self.put(hashed, principal)
            stored += 1
        return stored

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
        now = time.monotonic()
        self._forgotten[address] = now
        if len(self._forgotten) > MAX_ENTRIES:
            self._forgotten = {a: t for a, t in self._forgotten.items() if t > now - FORGOTTEN_KEEP_S}
        if hashed is not None:
            self.forget(hashed)
            return
        for key in [k for k, (_, p) in self._entries.items() if p.address == address]:
            del self._entries[key]


SESSION_CACHE: web.AppKey[SessionCache] = web.AppKey("session_cache", SessionCache)
