"""Coalescing lookups: the keys asked for in one turn of the event loop, answered by one batch call.

A reconnect storm asks the database the same question (the sign-in behind a cookie, a kiosk's
open ticket) for hundreds of sockets within milliseconds. Each asker awaits `get(key)`; the first
one schedules a flush on the next loop turn, which calls the batch function once with every key
gathered so far (at most `max_batch` per call) and answers each asker. An error of the batch call
reaches every asker of that batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Coalescer(Generic[K, V]):
    """`get(key)` answered by `batch(keys) -> {key: value}`; a key missing from the answer gives None."""

    def __init__(self, batch: Callable[[list[K]], Awaitable[Mapping[K, V]]], max_batch: int = 200) -> None:
        self.batch = batch
        self.max_batch = max_batch
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._scheduled = False
        self.calls = 0  # batch calls made (for tests and metrics)

    async def get(self, key: K) -> V | None:
        """The value of `key`, from a batch call shared with whoever else asked meanwhile."""
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._scheduled = False
        waiting, self._waiting = self._waiting, {}
        keys = list(waiting)
        for start in range(0, len(keys), self.max_batch):
            chunk = keys[start:start + self.max_batch]
            task = asyncio.ensure_future(self._run(chunk, [(k, waiting[k]) for k in chunk]))
            _running.add(task)
            task.add_done_callback(_running.discard)

    async def _run(self, keys: list[K], askers: Iterable[tuple[K, list[asyncio.Future[V | None]]]]) -> None:
        self.calls += 1
        try:
            values = await self.batch(keys)
        except BaseException as exc:
            for _, futures in askers:
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for key, futures in askers:
            for future in futures:
                if not future.done():
                    future.set_result(values.get(key))


# Flush tasks in progress (a reference keeps them from being collected mid-flight).
_running: set[asyncio.Future[None]] = set()
