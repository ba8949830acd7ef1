"""Published catalog versions: each publish keeps the full matter list, so any earlier one can be
restored. This module owns the writes of the catalog_versions table."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.loader import Catalog, load_skills
from matters_catalog.schema import Matter
from server.catalog.db_sync import CatalogDiff, load_catalog_from_db, sync_catalog
from server.db.models import CatalogVersion


async def keep_version(session: AsyncSession, catalog: Catalog, actor: str, note: str = "") -> None:
    """Store `catalog` under its version unless that version is stored already."""
    if await session.scalar(select(CatalogVersion.id).where(CatalogVersion.version == catalog.version)):
        return
    session.add(CatalogVersion(version=catalog.version, actor=actor[:60], note=note[:200],
                               matters=[matter.model_dump(mode="json") for matter in catalog.matters]))
    await session.flush()


async def publish(session: AsyncSession, catalog: Catalog, actor: str, note: str = "") -> CatalogDiff:
    """Make `catalog` the active one and keep it as a version; the one it replaces is kept too
    (the shipped catalog loaded at set-up was never published), so it can be restored."""
    current = await load_catalog_from_db(session)
    if current.version:
        await keep_version(session, current, "system", "before " + catalog.version)
    diff = await sync_catalog(session, catalog, apply=True)
    await keep_version(session, catalog, actor, note)
    return diff


async def read_versions(session: AsyncSession) -> list[CatalogVersion]:
    """Every stored version, newest first."""
    return list(await session.scalars(select(CatalogVersion).order_by(CatalogVersion.id.desc())))


async def stored_catalog(session: AsyncSession, version: str) -> Catalog | None:
    """A stored version as a catalog, or None when no such version was kept."""
    row = await session.scalar(select(CatalogVersion).where(CatalogVersion.version == version))
    if row is None:
        return None
    return Catalog(version=row.version, matters=[Matter.model_validate(m) for m in row.matters], skills=load_skills())
