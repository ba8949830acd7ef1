"""Alembic migrations go up and down cleanly on SQLite and PostgreSQL."""

from __future__ import annotations

from server.db.engine import make_engine
from server.db.migrate import downgrade_database, table_names, upgrade_database
from server.db.models import Base


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await table_names(connection)
    finally:
        await engine.dispose()


async def test_upgrade_creates_every_model_table(database_url: str) -> None:
    await upgrade_database(database_url)
    assert await _tables(database_url) == set(Base.metadata.tables) | {"alembic_version"}


async def test_downgrade_then_upgrade_again(database_url: str) -> None:
    await upgrade_database(database_url)
    await downgrade_database(database_url)
    assert await _tables(database_url) == {"alembic_version"}
    await upgrade_database(database_url)
    assert "sessions" in await _tables(database_url)


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await upgrade_database(database_url)
    await upgrade_database(database_url)
    assert "session_events" in await _tables(database_url)
