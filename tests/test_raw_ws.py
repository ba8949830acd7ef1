"""The load generator's minimal WebSocket client against aiohttp's server: upgrade, text both ways,
pings, fragments, the server's close, and refusals."""

from __future__ import annotations

import os
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from server.simulate.raw_ws import Closed, HandshakeError, RawWebSocket, mask


async def echo(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Cookie") != "jl_session=abc":
        raise web.HTTPUnauthorized()
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for frame in ws:
        if frame.type != WSMsgType.TEXT:
            continue
        if frame.data == "ping me":
            await ws.ping(b"x")
            await ws.send_str("pinged")
        elif frame.data == "drop":
            assert request.transport is not None
            request.transport.close()  # the connection ends without a close frame
        elif frame.data == "close":
            await ws.close(code=1013, message=b"retry_after_ms=1500")
        else:
            await ws.send_str(frame.data.upper())
    return ws


@pytest.fixture
async def url(aiohttp_server: Any) -> str:
    app = web.Application()
    app.router.add_get("/ws", echo)
    server = await aiohttp_server(app)
    return f"ws://127.0.0.1:{server.port}/ws"


def test_mask_is_its_own_inverse() -> None:
    payload = os.urandom(1001)
    key = os.urandom(4)
    assert mask(payload, key) != payload
    assert mask(mask(payload, key), key) == payload
    assert mask(b"", key) == b""


async def test_text_both_ways_at_every_length_encoding(url: str) -> None:
    ws = await RawWebSocket.connect(url, {"Cookie": "jl_session=abc"})
    for size in (1, 125, 126, 65_535, 70_000):  # 7-bit, 16-bit and 64-bit lengths
        await ws.send_str("é" * size)
        assert await ws.receive() == "É" * size
    await ws.close()


async def test_pings_are_answered_and_the_servers_close_is_reported(url: str) -> None:
    ws = await RawWebSocket.connect(url, {"Cookie": "jl_session=abc"})
    await ws.send_str("ping me")
    assert await ws.receive() == "pinged"
    await ws.send_str("close")
    closed = await ws.receive()
    assert closed == Closed(1013, "retry_after_ms=1500")
    assert ws.closed


async def test_a_refused_upgrade_raises_with_the_status(url: str) -> None:
    with pytest.raises(HandshakeError) as refused:
        await RawWebSocket.connect(url)
    assert refused.value.status == 401


async def test_a_connection_ending_without_a_close_frame_reads_as_abnormal_closure(url: str) -> None:
    ws = await RawWebSocket.connect(url, {"Cookie": "jl_session=abc"})
    await ws.send_str("drop")
    assert await ws.receive() == Closed(1006, "")
    assert ws.closed
