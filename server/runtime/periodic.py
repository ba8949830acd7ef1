"""Background loops of a server process: run a step every few seconds, stop cleanly on request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


async def run_periodically(step: Callable[[], Awaitable[object]], stop: asyncio.Event, interval_s: float,
                           *, name: str) -> None:
    """Await `step` every `interval_s` until `stop` is set; a failing step is logged and retried.

    Stopping by event rather than by cancellation alone: database drivers may swallow a
    CancelledError that lands inside their own cleanup, which would leave the loop running.
    """
    while not stop.is_set():
        try:
            await step()
        except (RedisError, OSError) as exc:
            log.warning("%s failed", name, extra={"error": type(exc).__name__})
        except Exception:
            log.exception("%s crashed; it will run again", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)


@contextlib.asynccontextmanager
async def background(run: Callable[[asyncio.Event], Coroutine[Any, Any, None]], *, name: str) -> AsyncIterator[None]:
    """Run `run(stop)` as a task for the duration of the block; on exit set `stop` and wait for it."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(stop), name=name)
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("%s did not stop in time; cancelled", name)
