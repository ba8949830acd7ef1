"""Catalog ⇄ database on SQLite and PostgreSQL: add, change, retire (row kept), unretire."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from matters_catalog.loader import Catalog, load_catalog
from matters_catalog.schema import Material
from server.catalog.db_sync import CATALOG_VERSION_KEY, load_catalog_from_db, sync_catalog
from server.db import models
from server.db.engine import make_engine, make_session_factory


async def create_tables(database_url: str) -> None:
    """Create the schema directly (migrations are tested elsewhere)."""
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(models.Base.metadata.create_all)
    await engine.dispose()


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    await create_tables(database_url)
    engine = make_engine(database_url)
    async with make_session_factory(engine)() as db_session:
        yield db_session
    await engine.dispose()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


async def test_first_sync_adds_everything_and_records_the_version(session: AsyncSession, catalog: Catalog) -> None:
    preview = await sync_catalog(session, catalog, apply=False)
    assert len(preview.added) == 179 and preview.old_version is None
    assert (await session.scalars(select(models.Matter))).all() == []  # dry run wrote nothing

    diff = await sync_catalog(session, catalog, apply=True)
    await session.commit()
    assert diff.added == [m.id for m in catalog.matters]
    meta = await session.get(models.AppMeta, CATALOG_VERSION_KEY)
    assert meta is not None and meta.value == catalog.version
    loaded = await load_catalog_from_db(session)
    assert loaded.matters == catalog.matters
    assert loaded.version == catalog.version


async def test_second_sync_changes_nothing(session: AsyncSession, catalog: Catalog) -> None:
    await sync_catalog(session, catalog, apply=True)
    await session.commit()
    session.expunge_all()
    diff = await sync_catalog(session, catalog, apply=True)
    assert diff.is_empty and diff.old_version == catalog.version


async def test_changed_materials_are_replaced_in_order(session: AsyncSession, catalog: Catalog) -> None:
    await sync_catalog(session, catalog, apply=True)
    await session.commit()
    target = catalog.matters[0]
    new_materials = [
        Material(name="户口簿", capture=True, document_type="household_register"),
        Material(name="申请表", capture=False, document_type="form"),
    ]
    edited = target.model_copy(update={"typical_minutes": 42, "materials": new_materials})
    new_catalog = Catalog(version="v2", matters=[edited, *catalog.matters[1:]], skills=catalog.skills)
    diff = await sync_catalog(session, new_catalog, apply=True)
    await session.commit()
    assert diff.changed == [target.id] and not diff.added and not diff.retired
    session.expunge_all()
    loaded = await load_catalog_from_db(session)
    assert loaded.by_id(target.id) == edited
    assert loaded.version == "v2"
    count = len((await session.scalars(select(models.Material).where(models.Material.matter_id == target.id))).all())
    assert count == 2  # old material rows are gone, not left behind


async def test_retired_matter_keeps_its_row_and_sessions(session: AsyncSession, catalog: Catalog) -> None:
    await sync_catalog(session, catalog, apply=True)
    gone = catalog.matters[5]
    street = models.Street(code="jas", name="静安寺街道")
    session.add(street)
    await session.flush()
    site = models.Site(street_id=street.id, name="测试居委", kind="committee")
    session.add(site)
    await session.flush()
    kiosk = models.Kiosk(site_id=site.id, label="K1", token_hash="0" * 64)
    session.add(kiosk)
    await session.flush()
    session.add(
        models.ServiceSession(
            id="s1",
            ticket_number="A001",
            kiosk_id=kiosk.id,
            site_id=site.id,
            street_id=street.id,
            matter_id=gone.id,
            skill=gone.skill,
            mode="handle",
            state="closed",
        )
    )
    await session.commit()

    smaller = Catalog(version="v2", matters=[m for m in catalog.matters if m.id != gone.id], skills=catalog.skills)
    diff = await sync_catalog(session, smaller, apply=True)
    await session.commit()
    assert diff.retired == [gone.id] and not diff.changed

    session.expunge_all()
    row = await session.get(models.Matter, gone.id)
    assert row is not None and row.retired and len(row.materials) == len(gone.materials)
    visit = await session.get(models.ServiceSession, "s1")
    assert visit is not None and visit.matter_id == gone.id
    assert (await load_catalog_from_db(session)).by_id(gone.id) is None

    back = await sync_catalog(session, catalog, apply=True)
    await session.commit()
    assert back.unretired == [gone.id] and not back.added
    session.expunge_all()
    assert (await load_catalog_from_db(session)).by_id(gone.id) == gone
