"""Shared fixtures: the two Redis backends and the two database backends.

Every suite that touches Redis or the database takes `redis_url` / `database_url`, which are
parametrized over the embedded default and the real server. Outside CI an unreachable server is
skipped with a visible reason; with CI=true it fails the run instead (never a silent skip).
"""

from __future__ import annotations

import asyncio
import gc
import os

# Cheap Argon2 parameters for the suites (hundreds of demo passwords); must be set before
# server.auth.passwords is imported. test_passwords checks servers default to the standard ones.
os.environ.setdefault("JINGLIN_PASSWORD_PROFILE", "fast")
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from server.runtime.embedded_redis import EmbeddedRedis


def _worker_redis_url(url: str) -> str:
    """url with a Redis database of this test worker's own: pytest-xdist workers (gw0, gw1, ...)
    run suites at the same time, and each suite empties its database (flushdb) as it starts."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    parsed = urlparse(url)
    number = int(parsed.path.strip("/") or 0) + int(worker[2:])
    if number > 15:
        # Wrapping round would empty another database (a developer's 0, say) with every suite.
        raise pytest.UsageError(f"test worker {worker} would need Redis database {number}: use fewer workers "
                                "(JINGLIN_TEST_WORKERS) or a lower database in JINGLIN_TEST_REDIS_URL")
    return parsed._replace(path=f"/{number}").geturl()


SERVER_REDIS_URL = _worker_redis_url(os.environ.get("JINGLIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/9"))
SERVER_DATABASE_URL = os.environ.get(
    "JINGLIN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=1):
            return True
    except OSError:
        return False


def require_service(url: str, name: str) -> None:
    """Fail (in CI) or skip (elsewhere) when a server backend is not reachable."""
    if _reachable(url):
        return
    message = f"{name} at {url} is not reachable"
    if IN_CI:
        pytest.fail(message + " (CI=true: services must be running)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def embedded_redis() -> Iterator[EmbeddedRedis]:
    """One embedded redis-server for the whole test session."""
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="jl-redis-")))
    asyncio.run(server.start())
    yield server
    asyncio.run(server.stop())


@pytest.fixture(params=["embedded", "server"])
def redis_url(request: pytest.FixtureRequest) -> str:
    """A Redis URL for each backend: the embedded default and the Redis server."""
    if request.param == "embedded":
        server: EmbeddedRedis = request.getfixturevalue("embedded_redis")
        return server.url
    require_service(SERVER_REDIS_URL, "Redis")
    return SERVER_REDIS_URL


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on an emptied database of the backend under test."""
    client = aioredis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test run's own, so concurrent runs never share tables."""
    require_service(SERVER_DATABASE_URL, "PostgreSQL")
    name = f"jl_test_{os.getpid()}"
    asyncio.run(_admin(SERVER_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    yield urlparse(SERVER_DATABASE_URL)._replace(path=f"/{name}").geturl()
    asyncio.run(_admin(SERVER_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A sync-style database URL for each backend, pointing at an empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(reset_postgres(url))
    return url


async def _admin(url: str, *statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE) outside a transaction."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def reset_postgres(url: str) -> None:
    """Drop everything in the public schema so each test starts from an empty database."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Collect garbage as each test's own code ends (before its fixtures are torn down), so an
    object it dropped unclosed (a client session, a socket) warns in this test's teardown rather
    than in whichever test the collector happens to run in next: with the suites spread over
    workers, that is a different test on every run."""
    gc.collect()
