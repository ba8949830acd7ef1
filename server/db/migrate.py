"""Run Alembic migrations from code (used by `jinglin migrate`, the app and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def _run_command(database_url: str, upgrade: bool, revision: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_apply, database_url, upgrade, revision)
    finally:
        await engine.dispose()


def _apply(connection: object, database_url: str, upgrade: bool, revision: str) -> None:
    config = alembic_config(database_url)
    config.attributes["connection"] = connection
    if upgrade:
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision` (default: the newest)."""
    await _run_command(database_url, True, revision)


async def downgrade_database(database_url: str, revision: str = "base") -> None:
    """Migrate the database down to `revision` (default: empty)."""
    await _run_command(database_url, False, revision)


async def table_names(connection: AsyncConnection) -> set[str]:
    """Names of the tables present (used by tests and health checks)."""
    return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def schema_revisions(database_url: str) -> tuple[str | None, str]:
    """(the database's revision, or None when it has no schema; the newest revision of this code)."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert head is not None
    return current, head
