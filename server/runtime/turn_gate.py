"""A turn gate: at most `per_turn` waiters go on in one turn of the event loop, the rest in order after.

Hundreds of sockets that close in the same instant (the end of a storm, a network flap that drops
a street's kiosks) wake their handlers in the same loop turn, and each one's clean-up (the close
handshake, the presence removal, the drop rules) then runs before anything else the loop has
ready: the calls' messages waited behind all of them. Passing the clean-ups through a gate spreads
them over turns, with the messages served in between.
"""

from __future__ import annotations

import asyncio
from collections import deque


class TurnGate:
    """`await gate.turn()` returns at once for the first `per_turn` callers of a loop turn; later
    callers wait, first come first served, and `per_turn` of them go on in each following turn."""

    def __init__(self, per_turn: int) -> None:
        if per_turn < 1:
            raise ValueError("per_turn must be at least 1")
        self.per_turn = per_turn
        self._passed = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._scheduled = False
        self.held = 0  # callers that had to wait for a later turn (for tests and metrics)

    async def turn(self) -> None:
        """Wait until this caller may go on."""
        loop = asyncio.get_running_loop()
        if not self._waiting and self._passed < self.per_turn:
            self._passed += 1
            self._schedule(loop)
            return
        future: asyncio.Future[None] = loop.create_future()
        self._waiting.append(future)
        self.held += 1
        self._schedule(loop)
        await future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        """A new loop turn: let the next `per_turn` waiters go on (skipping those cancelled)."""
        self._scheduled = False
        self._passed = 0
        while self._waiting and self._passed < self.per_turn:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(None)
                self._passed += 1
        if self._passed:
            # Those let through run in this turn's wake of callbacks; the count resets next turn.
            self._schedule(asyncio.get_running_loop())
