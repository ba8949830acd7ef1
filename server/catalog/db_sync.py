"""Bring the database's matters in line with a catalog, and read the active catalog back.

`sync_catalog` only adds, updates and flushes; the caller owns the transaction and commits, so a
migrate/seed or an import can put the catalog change and its audit entry in one commit.
Matters missing from the new catalog are retired (row kept, `retired=True`) because sessions
refer to them; a retired id that comes back is unretired, never re-created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.loader import Catalog, canonical_order, load_skills
from matters_catalog.schema import FieldSet, Material, Matter
from server.db import models

CATALOG_VERSION_KEY: Final[str] = "catalog_version"


@dataclass(frozen=True)
class CatalogDiff:
    """What a sync changes (or would change), as matter ids in catalog order."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unretired: list[str] = field(default_factory=list)
    old_version: str | None = None
    new_version: str = ""

    @property
    def is_empty(self) -> bool:
        """True when no matter would be added, changed, retired or unretired."""
        return not (self.added or self.changed or self.retired or self.unretired)


async def sync_catalog(session: AsyncSession, catalog: Catalog, *, apply: bool) -> CatalogDiff:
    """Compare `catalog` with the database; when `apply`, write the difference and flush.

    Writes matter rows (with their own form level), their materials and app_meta `catalog_version`.
    A matter whose form level differs counts as changed. Does not commit.
    """
    rows = {row.id: row for row in (await session.scalars(select(models.Matter))).all()}
    old_version = await read_catalog_version(session)
    added: list[str] = []
    changed: list[str] = []
    unretired: list[str] = []
    for matter in catalog.matters:
        row = rows.get(matter.id)
        if row is None:
            added.append(matter.id)
            if apply:
                session.add(_new_row(matter))
            continue
        if row.retired:
            unretired.append(matter.id)
        elif _to_schema(row) != matter:
            changed.append(matter.id)
        else:
            continue
        if apply:
            _update_row(row, matter)
    wanted = {matter.id for matter in catalog.matters}
    retired = sorted(row_id for row_id, row in rows.items() if not row.retired and row_id not in wanted)
    if apply:
        for row_id in retired:
            rows[row_id].retired = True
        await _write_version(session, catalog.version)
        await session.flush()
    return CatalogDiff(
        added=added,
        changed=changed,
        retired=retired,
        unretired=unretired,
        old_version=old_version,
        new_version=catalog.version,
    )


async def load_catalog_from_db(session: AsyncSession) -> Catalog:
    """The active (non-retired) matters, the stored version and the shipped skill vocabulary."""
    rows = (await session.scalars(select(models.Matter).where(models.Matter.retired.is_(False)))).all()
    version = await read_catalog_version(session) or ""
    return Catalog(
        version=version,
        matters=canonical_order(_to_schema(row) for row in rows),
        skills=load_skills(),
    )


async def read_catalog_version(session: AsyncSession) -> str | None:
    """The catalog version stored in app_meta, or None before the first sync."""
    meta = await session.get(models.AppMeta, CATALOG_VERSION_KEY)
    return None if meta is None else meta.value


async def _write_version(session: AsyncSession, version: str) -> None:
    meta = await session.get(models.AppMeta, CATALOG_VERSION_KEY)
    if meta is None:
        session.add(models.AppMeta(key=CATALOG_VERSION_KEY, value=version))
    else:
        meta.value = version


def _to_schema(row: models.Matter) -> Matter:
    return Matter(
        id=row.id,
        name=row.name,
        department=row.department,
        category=row.category,
        mode=row.mode,  # type: ignore[arg-type]  # validated by the Literal at runtime
        on_the_spot=row.on_the_spot,
        typical_minutes=row.typical_minutes,
        skill=row.skill,
        guide=row.guide,
        materials=[
            Material(name=item.name, capture=item.capture, document_type=item.document_type)  # type: ignore[arg-type]
            for item in row.materials
        ],
        form=None if row.form is None else FieldSet.model_validate(row.form),
    )


def _material_rows(matter: Matter) -> list[models.Material]:
    return [
        models.Material(position=position, name=item.name, capture=item.capture, document_type=item.document_type)
        for position, item in enumerate(matter.materials)
    ]


def _new_row(matter: Matter) -> models.Matter:
    row = models.Matter(id=matter.id, retired=False, materials=_material_rows(matter))
    _copy_fields(row, matter)
    return row


def _update_row(row: models.Matter, matter: Matter) -> None:
    _copy_fields(row, matter)
    row.retired = False
    # Replacing the list deletes the old material rows (delete-orphan); positions restart at 0.
    row.materials = _material_rows(matter)


def _copy_fields(row: models.Matter, matter: Matter) -> None:
    row.name = matter.name
    row.department = matter.department
    row.category = matter.category
    row.mode = matter.mode
    row.on_the_spot = matter.on_the_spot
    row.typical_minutes = matter.typical_minutes
    row.skill = matter.skill
    row.guide = matter.guide
    row.form = None if matter.form is None else matter.form.model_dump(mode="json")
