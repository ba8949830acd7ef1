"""Putting the shipped matters catalog into a database that has none yet."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.loader import load_catalog
from server.catalog.db_sync import sync_catalog
from server.db.models import AppMeta

log = logging.getLogger(__name__)

CATALOG_VERSION_KEY = "catalog_version"


async def ensure_catalog(session: AsyncSession) -> bool:
    """Load the shipped catalog when the database has none; return True when it did.

    A catalog already present (for example the district's imported official list) is never
    overwritten here: changing it is `jinglin catalog import`'s job.
    """
    if await session.get(AppMeta, CATALOG_VERSION_KEY) is not None:
        return False
    diff = await sync_catalog(session, load_catalog(), apply=True)
    log.info("shipped catalog loaded", extra={"added": len(diff.added)})
    return True
