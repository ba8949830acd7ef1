"""The live matters catalog of a server process: loaded from the database, searchable in memory.

Search runs on an in-memory index (well under a millisecond per query). A catalog import by
another process changes the stored version; each process notices at its next check and reloads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matters_catalog.loader import Catalog
from matters_catalog.schema import Matter
from matters_catalog.search import MatterSearchIndex
from server.catalog.db_sync import load_catalog_from_db, read_catalog_version
from server.http import app_keys
from server.http.errors import ApiError

VERSION_CHECK_INTERVAL_S = 30.0


class CatalogService:
    """The active catalog and its search index, refreshed when the stored version changes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._catalog = Catalog(version="", matters=[], skills=[])
        self._index = MatterSearchIndex([])
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def catalog(self) -> Catalog:
        """The catalog as last loaded."""
        return self._catalog

    async def load(self) -> None:
        """(Re)load the active catalog from the database."""
        async with self._sessions() as session:
            catalog = await load_catalog_from_db(session)
        self._catalog = catalog
        self._index = MatterSearchIndex(catalog.matters)
        self._checked_at = time.monotonic()

    async def current(self) -> Catalog:
        """The catalog, reloaded first if the stored version changed since the last check."""
        if time.monotonic() - self._checked_at >= VERSION_CHECK_INTERVAL_S:
            async with self._lock:
                if time.monotonic() - self._checked_at >= VERSION_CHECK_INTERVAL_S:
                    async with self._sessions() as session:
                        stored = await read_catalog_version(session)
                    if stored != self._catalog.version:
                        await self.load()
                    self._checked_at = time.monotonic()
        return self._catalog

    async def search(self, q: str, department: str | None, mode: str | None) -> list[Matter]:
        """Matters matching a resident's query (Chinese, pinyin or initials) and filters."""
        await self.current()
        return self._index.search(q, department=department, mode=mode)


CATALOG: web.AppKey[CatalogService] = web.AppKey("catalog")


async def matter_in_query(request: web.Request) -> Matter:
    """The matter named by the request's `?matter=`: `unknown_matter`, 400 when it is missing and
    404 when the catalog has no such matter."""
    matter_id = request.query.get("matter", "")
    matter = (await request.app[CATALOG].current()).by_id(matter_id) if matter_id else None
    if matter is None:
        raise ApiError(404 if matter_id else 400, "unknown_matter", "没有这个事项")
    return matter


def matter_name(catalog: Catalog, matter_id: str) -> str:
    """The matter's name as staff read it; a matter that has left the catalog keeps showing its id."""
    matter = catalog.by_id(matter_id)
    return matter.name if matter is not None else matter_id


async def catalog_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: load the catalog once the database is ready."""
    service = CatalogService(app[app_keys.DB_SESSIONS])
    await service.load()
    app[CATALOG] = service
    yield
