"""The paced listener (server/signaling/listener.py): new connections are taken from the kernel's
accept queue at the admission rate; past the wait bound they are taken and refused with a hint."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from server.signaling.admission import MIN_RETRY_MS, Admission
from server.signaling.listener import PacedListener, PacedSite, accept_queue_length


def test_the_accept_queue_length_is_read_from_the_kernel() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listening:
        port = listening.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        try:
            deadline = time.monotonic() + 5
            while accept_queue_length(listening) != 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert accept_queue_length(listening) == 5
            listening.accept()[0].close()
            assert accept_queue_length(listening) == 4
        finally:
            for client in clients:
                client.close()


@dataclass
class Served:
    """An app on a paced site, and what its handler saw."""

    port: int
    admission: Admission
    listener: PacedListener
    refusals: list[int]


@contextlib.asynccontextmanager
async def _served(admission: Admission, max_wait_s: float) -> AsyncIterator[Served]:
    """A tiny app on a paced site for the duration of the block."""
    refusals: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        # What the WebSocket route does first: admit the setup, or tell when to come back.
        hint = admission.try_admit()
        if hint is not None:
            refusals.append(hint)
            return web.Response(status=503, text=str(hint))
        admission.done()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = PacedSite(runner, "127.0.0.1", 0, admission=admission, max_wait_s=max_wait_s, backlog=256)
    await site.start()
    listener = site._server
    assert isinstance(listener, PacedListener)
    try:
        yield Served(listener.sockets[0].getsockname()[1], admission, listener, refusals)
    finally:
        await runner.cleanup()


@pytest.fixture
async def slow() -> AsyncIterator[Served]:
    """20 connections a second, bursts of 2, a wait bound far away."""
    async with _served(Admission(rate=20, burst=2, max_pending=100), max_wait_s=60) as served:
        yield served


@pytest.fixture
async def bounded() -> AsyncIterator[Served]:
    """5 connections a second, a wait bound of 0.4 s."""
    async with _served(Admission(rate=5, burst=1, max_pending=100), max_wait_s=0.4) as served:
        yield served


async def _get(port: int) -> tuple[float, int]:
    """One request on a new connection: (seconds until the answer, status)."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        return time.monotonic() - started, int(head.split()[1])
    finally:
        writer.close()


async def test_connections_are_taken_at_the_rate_and_wait_in_the_kernel(slow: Served) -> None:
    assert slow.admission.paced
    started = time.monotonic()
    requests = [asyncio.create_task(_get(slow.port)) for _ in range(30)]
    await asyncio.sleep(0.4)
    # By 0.4 s the bucket allowed its burst and ~8 more: the rest wait, unaccepted, in the kernel.
    answered_early = sum(task.done() for task in requests)
    waiting = accept_queue_length(slow.listener.sock)
    results = await asyncio.gather(*requests)
    elapsed = time.monotonic() - started
    assert all(status == 200 for _, status in results)
    assert answered_early <= 2 + 0.4 * 20 + 2
    assert waiting is not None and waiting >= 10
    # 28 connections beyond the burst at 20 a second take at least 1.4 s; the wait bound was never met.
    assert elapsed >= 1.2
    assert slow.refusals == [] and slow.listener.taken_beyond_rate == 0
    assert slow.listener.accepted == 30


async def test_past_the_wait_bound_connections_are_taken_and_refused_with_a_later_slot(bounded: Served) -> None:
    started = time.monotonic()
    results = await asyncio.gather(*(_get(bounded.port) for _ in range(24)))
    elapsed = time.monotonic() - started
    statuses = [status for _, status in results]
    # 5 a second, 0.4 s of queue allowed: about two wait their turn, most are told to come back.
    assert statuses.count(503) >= 12
    assert statuses.count(200) >= 1
    assert bounded.listener.taken_beyond_rate == statuses.count(503)
    assert all(hint >= MIN_RETRY_MS for hint in bounded.refusals)
    # Nobody waited for an answer anywhere near the 24 / 5 = 4.8 s the queue alone would take.
    assert max(seconds for seconds, status in results if status == 503) < 2.5
    assert elapsed < 4.0
    assert bounded.admission.excess == 0  # every connection taken beyond the rate was refused


async def test_setups_in_progress_hold_the_listener(slow: Served) -> None:
    slow.admission.pending = slow.admission.max_pending  # as many setups in progress as allowed
    request = asyncio.create_task(_get(slow.port))
    await asyncio.sleep(0.5)
    assert not request.done() and slow.listener.accepted == 0
    slow.admission.pending = 0  # they finished
    _, status = await asyncio.wait_for(request, 5)
    assert status == 200 and slow.listener.accepted == 1


async def test_closing_the_site_stops_listening(slow: Served) -> None:
    slow.listener.close()
    await slow.listener.wait_closed()
    assert not slow.admission.paced
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", slow.port), 2)
