"""A database call cancelled mid-query (a shutdown that gives up waiting, a cancelled handler)
must not leave the event loop waiting forever for the connection to close.

aiosqlite 0.22 hangs here: SQLAlchemy's terminate path stops the worker thread while a shielded
graceful close is still queued behind it, and that close then waits on a future nobody resolves
(docs/reliability.md). The project holds aiosqlite below 0.22 for this reason.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.engine import make_engine, make_session_factory

# A query that keeps SQLite busy for a while: long enough for the cancellations to land inside it.
SLOW_QUERY = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT sum(i) FROM n"
)


async def _slow_query(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await session.execute(SLOW_QUERY)


async def test_cancelled_queries_leave_no_task_behind(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cancel.db'}")
    sessions = make_session_factory(engine)
    try:
        for delays in ((0.2,), (0.2, 0.0), (0.2, 0.01, 0.01)):
            before = asyncio.all_tasks()
            task = asyncio.create_task(_slow_query(sessions))
            for delay in delays:
                # Cancelled once, or again while it is already unwinding (wait_for, then the runner).
                await asyncio.sleep(delay)
                task.cancel()
            done, _ = await asyncio.wait([task], timeout=15)
            assert done, "a cancelled query never finished unwinding"
            left = asyncio.all_tasks() - before - {asyncio.current_task()}
            if left:
                _, pending = await asyncio.wait(left, timeout=15)
                assert not pending, f"tasks still waiting on a closed connection: {pending}"
        async with sessions() as session:  # and the engine still serves
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await asyncio.wait_for(engine.dispose(), 30)
