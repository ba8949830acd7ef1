"""Where each kiosk stands (site and street names), as every kiosk `welcome` tells it.

A kiosk's site and street do not change while it exists (administration adds kiosks, sites and
streets but neither moves nor renames them), so the answer is kept per process; the entries still
expire after `TTL_S`, so a name corrected in the database by hand shows within that time, and
`forget` drops one at once. A reconnect storm then reads each kiosk's place once per process, and
not even that for the kiosks there at start-up: `preload` reads them all, so the kiosks a failed
process leaves to this one find their places here already. `run_refresh` reads them all again every
`REFRESH_EVERY_S`, within the TTL: without it the preloaded places had all expired ten minutes
after start-up, and a failover's kiosks were read from the database again, a few per loop turn
(the 6,000-kiosk run: a fifth of a survivor's welcome time).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Kiosk, Site, Street
from server.runtime.coalesce import Coalescer
from server.runtime.periodic import run_periodically

TTL_S = 600.0
# More kiosks than this are read when they first connect rather than at start-up.
PRELOAD_MAX = 100_000
# The whole list is read again this often (well within TTL_S), in chunks of REFRESH_CHUNK with a
# loop turn between them, so that no read of thousands of rows holds the calls' messages up.
REFRESH_EVERY_S = TTL_S / 2
REFRESH_CHUNK = 500


class KioskPlaces:
    """kiosk id -> (site name, street name), read from the database once per `TTL_S`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_s: float = TTL_S) -> None:
        self.sessions = sessions
        self.ttl_s = ttl_s
        self._places: dict[int, tuple[float, str, str]] = {}
        # The kiosks of a reconnect storm are read together, one query per event-loop turn.
        self._lookups: Coalescer[int, tuple[str, str]] = Coalescer(self._read)

    async def of(self, kiosk_id: int) -> tuple[str, str]:
        """(site, street) of a kiosk; empty names for a kiosk that no longer exists."""
        entry = self._places.get(kiosk_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1], entry[2]
        # A kiosk not found is not cached: one added later under this id is read afresh.
        return await self._lookups.get(kiosk_id) or ("", "")

    async def preload(self) -> int:
        """Read the places of all kiosks (up to `PRELOAD_MAX`), in chunks of `REFRESH_CHUNK` in id
        order with a loop turn between them; how many were read."""
        read = 0
        after = 0
        while read < PRELOAD_MAX:
            chunk = await self._read(None, after=after)
            if not chunk:
                break
            read += len(chunk)
            after = max(chunk)
            if len(chunk) < REFRESH_CHUNK:
                break
            await asyncio.sleep(0)
        return read

    async def run_refresh(self, stop: asyncio.Event, every_s: float = REFRESH_EVERY_S) -> None:
        """Read every kiosk's place again every `every_s` until `stop` is set (a failed pass is
        logged and retried at the next: the places already known stay until their TTL)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)  # start-up has just preloaded them
        await run_periodically(self.preload, stop, every_s, name="kiosk places refresh")

    async def _read(self, kiosk_ids: list[int] | None, after: int = 0) -> dict[int, tuple[str, str]]:
        query = (select(Kiosk.id, Site.name, Street.name).select_from(Kiosk).join(Site, Site.id == Kiosk.site_id)
                 .join(Street, Street.id == Site.street_id))
        if kiosk_ids is None:
            query = query.where(Kiosk.id > after).order_by(Kiosk.id).limit(REFRESH_CHUNK)
        else:
            query = query.where(Kiosk.id.in_(kiosk_ids))
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
        expiry = time.monotonic() + self.ttl_s
        for kiosk_id, site, street in rows:
            self._places[kiosk_id] = (expiry, site, street)
        return {kiosk_id: (site, street) for kiosk_id, site, street in rows}

    def forget(self, kiosk_id: int) -> None:
        """Read this kiosk's place from the database next time."""
        self._places.pop(kiosk_id, None)
