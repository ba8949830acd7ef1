"""The turn gate (server/runtime/turn_gate.py): a burst goes on a few per loop turn, in order."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from server.runtime.turn_gate import TurnGate


class TurnClock:
    """Counts loop turns: a callback that schedules itself again each turn."""

    def __init__(self) -> None:
        self.turn = 0
        self._stopped = False
        asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        if not self._stopped:
            self.turn += 1
            asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        self._stopped = True


async def test_a_burst_goes_on_a_few_per_turn_in_order() -> None:
    gate = TurnGate(per_turn=16)
    clock = TurnClock()
    passed: list[tuple[int, int]] = []

    async def caller(n: int) -> None:
        await gate.turn()
        passed.append((n, clock.turn))

    await asyncio.gather(*(caller(n) for n in range(40)))
    clock.stop()
    assert [n for n, _ in passed] == list(range(40))  # first come, first served
    per_turn = Counter(turn for _, turn in passed)
    assert max(per_turn.values()) <= 16
    assert len(per_turn) >= 3
    assert gate.held == 24


async def test_a_lone_caller_is_not_held() -> None:
    gate = TurnGate(per_turn=2)
    for _ in range(5):
        await gate.turn()
        await asyncio.sleep(0)  # a later turn: the count starts again
    assert gate.held == 0


async def test_a_cancelled_waiter_does_not_hold_the_others() -> None:
    gate = TurnGate(per_turn=1)
    through, first, second = (asyncio.create_task(gate.turn()) for _ in range(3))
    await asyncio.sleep(0)  # all three asked in one turn: one went on, two wait
    assert through.done() and not first.done() and gate.held == 2
    first.cancel()
    await asyncio.wait_for(second, 1)
    with pytest.raises(asyncio.CancelledError):
        await first


def test_per_turn_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TurnGate(per_turn=0)
