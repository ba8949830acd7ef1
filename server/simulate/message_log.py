"""What a protocol client received, in order, and waiting for a message in it.

Every message is kept in `messages`, so a caller can wait for "the next `ticket` after this
point" (`mark`, then `wait_for(start=mark)`) without racing the reader that appends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]
Predicate = Callable[[Message], bool]


class MessageLog:
    """The messages of one client in arrival order, and waits on what arrives."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[Message] = []
        self._arrived = asyncio.Event()

    def _wake(self) -> None:
        """Tell every waiter that something arrived (a message, or the connection's end)."""
        self._arrived.set()
        self._arrived = asyncio.Event()

    async def _arrival(self, timeout: float) -> None:
        """Return when something arrives, or after `timeout`."""
        event = self._arrived
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def mark(self) -> int:
        """A position in `messages`; wait_for(start=mark) looks only at what arrived after it."""
        return len(self.messages)

    async def wait_for(self, predicate: Predicate, timeout: float, *, start: int | None = None,
                       what: str = "") -> Message:
        """The first message from `start` (default: from the beginning) matching `predicate`."""
        return (await self.next_matching(predicate, timeout, start=start or 0, what=what))[1]

    async def next_matching(self, predicate: Predicate, timeout: float, *, start: int,
                            what: str = "") -> tuple[int, Message]:
        """(index just past it, message): the first message at or after `start` matching `predicate`."""
        index = start
        deadline = time.monotonic() + timeout
        while True:
            while index < len(self.messages):
                message = self.messages[index]
                index += 1
                if predicate(message):
                    return index, message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.name}: no {what or 'matching message'} within {timeout:.1f}s")
            await self._arrival(remaining)
